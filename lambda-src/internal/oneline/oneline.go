// Package oneline joins errors into one line. A Lambda's error message ends
// up in CloudWatch alarms, Step Functions and CloudFormation reasons, where a
// second line is lost or breaks parsing; errors.Join separates with newlines.
package oneline

import "strings"

// Join returns nil when every err is nil, otherwise an error whose message is
// the messages of the non-nil errs, each with newlines folded to spaces,
// separated by "; ". errors.Is and errors.As see every joined error.
func Join(errs ...error) error {
	var kept []error
	for _, err := range errs {
		if err != nil {
			kept = append(kept, err)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return joined(kept)
}

type joined []error

func (j joined) Error() string {
	parts := make([]string, len(j))
	for i, err := range j {
		parts[i] = strings.Join(strings.Fields(err.Error()), " ")
	}
	return strings.Join(parts, "; ")
}

func (j joined) Unwrap() []error { return j }
