// Package audittest holds the audit's real-shaped test inputs, for the tests of appstreamaudit
// and of the CLI: one sandbox day of CloudTrail records and usage reports, built from AWS's
// documented formats (see the package appstreamaudit documentation for the pages).
//
// The CloudTrail file is kept as readable JSON and gzipped by WriteTree into the key layout
// CloudTrail writes, AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>.json.gz
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html);
// the usage reports lie as AppStream writes them, sessions/schedule=DAILY/year=.../
// (https://docs.aws.amazon.com/appstream2/latest/developerguide/configure-usage-reports.html).
package audittest

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

//go:embed testdata
var files embed.FS

// The sandbox the testdata describes.
const (
	Account    = "123456789012"
	HomeBucket = "appstream2-36fb080bb8-eu-west-1-123456789012"
	Stack      = "Sandbox-DataSandbox-Stack"
	// LogDir is where WriteTree puts the CloudTrail files, below its dir.
	LogDir = "trail/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/03"
)

// CloudTrailJSON returns the uncompressed CloudTrail log files by name.
func CloudTrailJSON() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := files.ReadDir("testdata/cloudtrail")
	for _, e := range entries {
		b, _ := files.ReadFile("testdata/cloudtrail/" + e.Name())
		out[e.Name()] = b
	}
	return out
}

// Reports returns the usage-report CSVs by their path below the reports bucket.
func Reports() map[string][]byte {
	out := map[string][]byte{}
	_ = fs.WalkDir(files, "testdata/usage-reports", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := files.ReadFile(p)
			out[strings.TrimPrefix(p, "testdata/usage-reports/")] = b
		}
		return err
	})
	return out
}

// WriteTree writes the inputs below dir as they lie in S3: the gzipped CloudTrail files under
// LogDir, a CloudTrail digest file (no records; the audit must skip it) and the reports under
// reports/.
func WriteTree(dir string) error {
	for name, b := range CloudTrailJSON() {
		if err := write(filepath.Join(dir, LogDir, name+".gz"), Gzip(b)); err != nil {
			return err
		}
	}
	if err := write(filepath.Join(dir, "trail/AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/12/03/digest.json.gz"), Gzip([]byte(`{"awsAccountId":"123456789012"}`))); err != nil {
		return err
	}
	for name, b := range Reports() {
		if err := write(filepath.Join(dir, "reports", filepath.FromSlash(path.Clean(name))), b); err != nil {
			return err
		}
	}
	return nil
}

// Gzip compresses b as CloudTrail does.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func write(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
