package appstreamaudit

import (
	"context"
	"fmt"
	"io"
)

// Stats count what Run read.
type Stats struct {
	// Files read (CloudTrail log files and usage reports); Skipped files are neither.
	Files, Skipped int64
	// Sessions in the usage reports.
	Sessions int64
	// Records read from CloudTrail, bad ones included.
	Records int64
	// Actions correlated, and Emitted the ones the filter kept.
	Actions, Emitted int64
	// Errors reported to bad.
	Errors int64
}

// Run reads every usage report of the sources, then streams every CloudTrail log file through
// the correlator c, and hands each action the filter keeps to emit, in file order. A record or
// file that cannot be read goes to bad and Run goes on. It stops at the first error of emit or of
// listing a source, or when ctx is done.
func Run(ctx context.Context, sources []Source, c Correlator, filter Filter, emit func(*Action) error, bad func(*ParseError)) (Stats, error) {
	var st Stats
	report := func(e *ParseError) {
		st.Errors++
		bad(e)
	}
	var logs, reports []Input
	for _, src := range sources {
		inputs, err := src.Inputs(ctx)
		if err != nil {
			return st, err
		}
		for _, in := range inputs {
			switch kindOf(in.Name) {
			case cloudTrailFile:
				logs = append(logs, in)
			case reportFile:
				reports = append(reports, in)
			default:
				st.Skipped++
			}
		}
	}

	index := NewIndex()
	if c.Index != nil {
		index = c.Index
	}
	c.Index = index
	for _, in := range reports {
		if err := read(ctx, in, report, func(r io.Reader) {
			ReadUsageReport(r, in.Name, index.AddSession, index.AddApplication, report)
		}); err != nil {
			return st, err
		}
		st.Files++
	}
	st.Sessions = int64(index.Len())

	var emitErr error
	for _, in := range logs {
		err := read(ctx, in, report, func(r io.Reader) {
			st.Records += ReadCloudTrailGzip(r, in.Name, func(rec Record) {
				if emitErr != nil {
					return
				}
				a, ok := c.Correlate(rec, in.Name)
				if !ok {
					return
				}
				st.Actions++
				if !filter.Keep(&a) {
					return
				}
				st.Emitted++
				emitErr = emit(&a)
			}, report)
		})
		if err != nil {
			return st, err
		}
		if emitErr != nil {
			return st, fmt.Errorf("writing the output: %w", emitErr)
		}
		st.Files++
	}
	return st, nil
}

// read opens in and hands its body to fn; a file that cannot be opened is reported to bad. It
// returns only ctx's error.
func read(ctx context.Context, in Input, bad func(*ParseError), fn func(io.Reader)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, err := in.Open(ctx)
	if err != nil {
		bad(&ParseError{File: in.Name, Err: fmt.Errorf("opening: %w", err)})
		return nil
	}
	defer body.Close()
	fn(body)
	return nil
}
