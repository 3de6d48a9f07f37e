package appstreamaudit

import (
	"bufio"
	"compress/gzip"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Record is the part of a CloudTrail record the audit uses.
type Record struct {
	EventTime   time.Time
	EventID     string
	EventSource string
	EventName   string
	// SourceIP is sourceIPAddress when it is an IP address; requests through a VPC endpoint carry
	// the caller's private IP, which is the streaming instance's ENI address. Invalid when
	// CloudTrail recorded a service name (such as "s3.amazonaws.com") instead.
	SourceIP      netip.Addr
	RequestID     string
	ErrorCode     string
	VPCEndpointID string
	// PrincipalARN is userIdentity.arn.
	PrincipalARN string
	// Bucket and Key are requestParameters.bucketName and .key (S3 data events).
	Bucket, Key string
	// StackName, FleetName and UserID are the requestParameters of AppStream's
	// CreateStreamingURL.
	StackName, FleetName, UserID string
	// SAMLSubject is the federated user of AssumeRoleWithSAML: userIdentity.userName, else
	// responseElements.subject.
	SAMLSubject string
}

// rawRecord mirrors the JSON of a record; unknown members are skipped.
type rawRecord struct {
	EventTime       string `json:"eventTime"`
	EventID         string `json:"eventID"`
	EventSource     string `json:"eventSource"`
	EventName       string `json:"eventName"`
	SourceIPAddress string `json:"sourceIPAddress"`
	RequestID       string `json:"requestID"`
	ErrorCode       string `json:"errorCode"`
	VPCEndpointID   string `json:"vpcEndpointId"`
	UserIdentity    struct {
		ARN      string `json:"arn"`
		UserName string `json:"userName"`
	} `json:"userIdentity"`
	// Each service shapes its own requestParameters and responseElements: the members the
	// audit reads are decoded leniently (see member), and checked only for the events they
	// come from.
	RequestParameters struct {
		BucketName member `json:"bucketName"`
		Key        member `json:"key"`
		StackName  member `json:"stackName"`
		FleetName  member `json:"fleetName"`
		UserID     member `json:"userId"`
	} `json:"requestParameters"`
	ResponseElements struct {
		Subject member `json:"subject"`
	} `json:"responseElements"`
}

// member is a string member of a service-shaped object. Another service may give the same
// name another type: that is no error here, only notString, which parseRecord turns into one
// for the events the audit reads the member from.
type member struct {
	v         string
	notString bool
}

// UnmarshalJSONFrom reads a string, or skips any other value and remembers that it was not one.
func (m *member) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		m.v = tok.String()
		return nil
	case 'n':
		_, err := dec.ReadToken()
		return err
	}
	m.notString = true
	return dec.SkipValue()
}

// get returns the string, or an error naming field when the member was not a string.
func (m member) get(field string) (string, error) {
	if m.notString {
		return "", fmt.Errorf("%s: expected a JSON string", field)
	}
	return m.v, nil
}

// The event sources and names the audit reads parameters of.
const (
	SourceS3        = "s3.amazonaws.com"
	SourceAppStream = "appstream.amazonaws.com"
	SourceSTS       = "sts.amazonaws.com"

	EventCreateStreamingURL = "CreateStreamingURL"
	EventAssumeRoleWithSAML = "AssumeRoleWithSAML"
)

// ParseError is one input record, or one whole file, that could not be read.
type ParseError struct {
	// File names the input file (its path, or s3://bucket/key).
	File string
	// Record is the 1-based record number in a CloudTrail file or the line in a CSV file; 0 when
	// the error concerns the file as a whole (such as a broken gzip stream).
	Record int64
	// Offset is the byte offset in the file (after decompression) where the record starts, or
	// where reading stopped.
	Offset int64
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Record > 0 && e.Offset >= 0:
		return fmt.Sprintf("%s: record %d (byte %d): %v", e.File, e.Record, e.Offset, e.Err)
	case e.Record > 0:
		return fmt.Sprintf("%s: line %d: %v", e.File, e.Record, e.Err)
	}
	return fmt.Sprintf("%s: byte %d: %v", e.File, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadCloudTrailGzip reads a CloudTrail log file as CloudTrail writes it to S3: gzip-compressed
// JSON, {"Records":[...]}. See ReadCloudTrail.
func ReadCloudTrailGzip(r io.Reader, file string, each func(Record), bad func(*ParseError)) (records int64) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		bad(&ParseError{File: file, Err: fmt.Errorf("expected a gzip-compressed CloudTrail log file: %w", err)})
		return 0
	}
	defer zr.Close()
	return ReadCloudTrail(zr, file, each, bad)
}

// ReadCloudTrail streams the records of one uncompressed CloudTrail log file to each, in order,
// one at a time. A record that is well-formed JSON but not a valid record (no eventTime, a time
// that is not RFC 3339, no eventID, a member of the wrong type) goes to bad with its number and
// offset, and reading goes on. Malformed JSON ends the file, reported at its offset, because
// nothing after it can be trusted to be a record boundary. It returns the number of records
// read, bad ones included.
func ReadCloudTrail(r io.Reader, file string, each func(Record), bad func(*ParseError)) (records int64) {
	// Duplicate member names are CloudTrail's to avoid; checking for them costs a tenth of the
	// decoding time.
	dec := jsontext.NewDecoder(bufio.NewReaderSize(r, 64<<10), jsontext.AllowDuplicateNames(true))
	fail := func(err error) int64 {
		bad(&ParseError{File: file, Record: 0, Offset: dec.InputOffset(), Err: err})
		return records
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return fail(errors.New(`expected a CloudTrail log file: a JSON object {"Records":[...]}`))
	}
	sawRecords := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return fail(fmt.Errorf("malformed JSON: %w", err))
		}
		if name.String() != "Records" {
			if err := dec.SkipValue(); err != nil {
				return fail(fmt.Errorf("malformed JSON: %w", err))
			}
			continue
		}
		sawRecords = true
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
			return fail(errors.New(`"Records": expected an array`))
		}
		depth := dec.StackDepth()
		var raw rawRecord
		for dec.PeekKind() != ']' {
			offset := dec.InputOffset()
			records++
			rec, err := decodeRecord(dec, depth, &raw)
			var syntax *jsontext.SyntacticError
			switch {
			case errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF):
				records-- // not a record: the file ends in broken JSON here
				return fail(fmt.Errorf("malformed JSON: %w", err))
			case err != nil:
				bad(&ParseError{File: file, Record: records, Offset: offset, Err: err})
			default:
				each(rec)
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return fail(fmt.Errorf("malformed JSON: %w", err))
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return fail(fmt.Errorf("malformed JSON: %w", err))
	}
	if !sawRecords {
		return fail(errors.New(`expected a CloudTrail log file: no "Records" array`))
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return fail(errors.New("expected the end of the file after the log object"))
	}
	return records
}

// decodeRecord decodes the next array element in one pass. After a semantic error (a member of
// the wrong type) it reads on to the end of the element, so that the next record starts clean;
// a syntactic error is returned as is and ends the file.
func decodeRecord(dec *jsontext.Decoder, depth int, raw *rawRecord) (Record, error) {
	if k := dec.PeekKind(); k != '{' {
		if err := dec.SkipValue(); err != nil {
			return Record{}, err
		}
		return Record{}, errors.New("expected a JSON object")
	}
	*raw = rawRecord{}
	if err := json.UnmarshalDecode(dec, raw); err != nil {
		if _, ok := errors.AsType[*jsontext.SyntacticError](err); ok || errors.Is(err, io.ErrUnexpectedEOF) {
			return Record{}, err
		}
		for dec.StackDepth() > depth {
			if _, err := dec.ReadToken(); err != nil {
				return Record{}, err
			}
		}
		if se, ok := errors.AsType[*json.SemanticError](err); ok && se.JSONPointer != "" {
			return Record{}, fmt.Errorf("%s: expected %s", strings.TrimPrefix(string(se.JSONPointer), "/"), expectedKind(se))
		}
		return Record{}, fmt.Errorf("not a CloudTrail record: %w", err)
	}
	return parseRecord(raw)
}

// parseRecord checks one decoded record and keeps the fields the audit uses.
func parseRecord(raw *rawRecord) (Record, error) {
	if raw.EventID == "" {
		return Record{}, errors.New("eventID: expected the event id (missing)")
	}
	t, err := time.Parse(time.RFC3339, raw.EventTime)
	if err != nil {
		return Record{}, fmt.Errorf("eventTime: expected an RFC 3339 time such as 2026-12-03T16:13:56Z, got %q", truncate(raw.EventTime, 40))
	}
	rec := Record{
		EventTime:     t.UTC(),
		EventID:       raw.EventID,
		EventSource:   raw.EventSource,
		EventName:     raw.EventName,
		RequestID:     raw.RequestID,
		ErrorCode:     raw.ErrorCode,
		VPCEndpointID: raw.VPCEndpointID,
		PrincipalARN:  raw.UserIdentity.ARN,
	}
	if ip, err := netip.ParseAddr(raw.SourceIPAddress); err == nil {
		rec.SourceIP = ip.Unmap()
	}
	p := &raw.RequestParameters
	switch {
	case raw.EventSource == SourceS3:
		if rec.Bucket, err = p.BucketName.get("requestParameters/bucketName"); err == nil {
			rec.Key, err = p.Key.get("requestParameters/key")
		}
	case raw.EventSource == SourceAppStream && raw.EventName == EventCreateStreamingURL:
		if rec.StackName, err = p.StackName.get("requestParameters/stackName"); err == nil {
			if rec.FleetName, err = p.FleetName.get("requestParameters/fleetName"); err == nil {
				rec.UserID, err = p.UserID.get("requestParameters/userId")
			}
		}
	case raw.EventSource == SourceSTS && raw.EventName == EventAssumeRoleWithSAML:
		rec.SAMLSubject = raw.UserIdentity.UserName
		if rec.SAMLSubject == "" {
			rec.SAMLSubject, err = raw.ResponseElements.Subject.get("responseElements/subject")
		}
	}
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

func expectedKind(se *json.SemanticError) string {
	if se.GoType != nil && se.GoType.Kind().String() == "struct" {
		return "a JSON object"
	}
	return "a JSON string"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
