// Package modproxy writes a file-based module proxy: the GOPROXY protocol's
// layout (https://go.dev/ref/mod#goproxy-protocol) on disk, served to the go
// command as GOPROXY=file://DIR. The consumer test serves our module from the
// working tree through it, and the API check serves the base version it
// compares against, so neither needs the network.
package modproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// Module is one module version in the proxy.
type Module struct {
	Path, Version string
	// GoSum holds the two go.sum lines of this version (zip and go.mod).
	GoSum []string
}

// AddDir zips files (slash-separated paths relative to dir, for example
// from "git ls-files") as module path@version into the proxy at root, the
// way the go command zips a module, and returns the module with its go.sum
// lines. nil files means every file of dir that belongs to the module.
func AddDir(root, path, version, dir string, files []string) (Module, error) {
	m := module.Version{Path: path, Version: version}
	var buf bytes.Buffer
	if files == nil {
		if err := zip.CreateFromDir(&buf, m, dir); err != nil {
			return Module{}, fmt.Errorf("modproxy: zip %s: %w", dir, err)
		}
	} else {
		zf := make([]zip.File, 0, len(files))
		for _, f := range files {
			info, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f)))
			if err != nil {
				// Listed but deleted in the working tree: not part of it.
				continue
			}
			zf = append(zf, dirFile{dir: dir, path: f, info: info})
		}
		if err := zip.Create(&buf, m, zf); err != nil {
			return Module{}, fmt.Errorf("modproxy: zip %s: %w", dir, err)
		}
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	return add(root, m, goMod, buf.Bytes())
}

func add(root string, m module.Version, goMod, zipData []byte) (Module, error) {
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	dir := filepath.Join(root, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return Module{}, err
	}
	zipPath := filepath.Join(dir, m.Version+".zip")
	for name, data := range map[string][]byte{m.Version + ".info": info, m.Version + ".mod": goMod, m.Version + ".zip": zipData} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return Module{}, fmt.Errorf("modproxy: %w", err)
		}
	}
	if err := addToList(filepath.Join(dir, "list"), m.Version); err != nil {
		return Module{}, err
	}
	zipSum, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	modSum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(goMod)), nil
	})
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	return Module{Path: m.Path, Version: m.Version, GoSum: []string{
		m.Path + " " + m.Version + " " + zipSum,
		m.Path + " " + m.Version + "/go.mod " + modSum,
	}}, nil
}

func addToList(list, version string) error {
	data, err := os.ReadFile(list)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("modproxy: %w", err)
	}
	versions := strings.Fields(string(data))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	return os.WriteFile(list, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

type dirFile struct {
	dir, path string
	info      os.FileInfo
}

func (f dirFile) Path() string                { return f.path }
func (f dirFile) Lstat() (os.FileInfo, error) { return f.info, nil }
func (f dirFile) Open() (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.dir, filepath.FromSlash(f.path)))
}

// AddInfoFiles makes a module cache's download directory usable as a proxy
// behind root: the go command caches a version's .mod and .zip without its
// .info when it only needed the module by exact version, and then a proxy
// of that directory cannot answer "which module provides this package" (it
// lists the version but cannot state it). For each module with such a
// version, AddInfoFiles links the module's files into root and writes the
// missing .info files there, so root answers for that module on its own
// and the go command asks downloadDir only for the others
// (GOPROXY=file://root,file://downloadDir).
func AddInfoFiles(root, downloadDir string) error {
	return filepath.WalkDir(downloadDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || d.Name() != "@v" {
			return nil
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		var missing []string
		for _, e := range entries {
			v, ok := strings.CutSuffix(e.Name(), ".mod")
			if !ok {
				continue
			}
			if _, err := os.Stat(filepath.Join(p, v+".info")); os.IsNotExist(err) {
				missing = append(missing, v)
			}
		}
		if len(missing) == 0 {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(downloadDir, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, rel)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".lock") {
				if err := os.Symlink(filepath.Join(p, e.Name()), filepath.Join(dst, e.Name())); err != nil && !os.IsExist(err) {
					return err
				}
			}
		}
		for _, v := range missing {
			info, err := json.Marshal(struct{ Version string }{v})
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dst, v+".info"), info, 0o644); err != nil {
				return err
			}
		}
		return filepath.SkipDir
	})
}
