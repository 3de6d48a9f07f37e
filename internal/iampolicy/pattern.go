package iampolicy

import "strings"

// A Pattern is a string pattern over ARNs: a policy's Resource (with its
// wildcards and unresolved CloudFormation tokens) or a resource type's ARN
// format from the Service Authorization Reference (with its ${Variables}).
// Two patterns Overlap when some ARN matches both.
type Pattern []elem

type elemKind uint8

const (
	lit         elemKind = iota // one given byte
	one                         // any one byte (IAM ?)
	oneSegment                  // any one byte but ':'
	star                        // any run of bytes, possibly empty (IAM *)
	starSegment                 // any run of bytes without ':'
	oneBucket                   // any one byte of a bucket name: neither ':' nor '/'
	starBucket                  // any run of bucket-name bytes
)

type elem struct {
	kind elemKind
	c    byte
}

func (e elem) isStar() bool { return e.kind == star || e.kind == starSegment || e.kind == starBucket }

// excludes reports whether the element's class leaves out byte c.
func (e elem) excludes(c byte) bool {
	switch e.kind {
	case oneSegment, starSegment:
		return c == ':'
	case oneBucket, starBucket:
		return c == ':' || c == '/'
	}
	return false
}

// literal returns the pattern matching exactly s.
func literal(s string) Pattern {
	p := make(Pattern, len(s))
	for i := 0; i < len(s); i++ {
		p[i] = elem{kind: lit, c: s[i]}
	}
	return p
}

// anything matches every string: an unresolved token that may stand for a
// whole ARN (Ref, Fn::GetAtt, Fn::ImportValue).
func anything() Pattern { return Pattern{{kind: star}} }

// segment matches one non-empty ARN segment: a pseudo parameter such as
// AWS::Region, which never contains ':'.
func segment() Pattern { return Pattern{{kind: oneSegment}, {kind: starSegment}} }

// PolicyPattern parses a Resource string of a policy: * matches any run of
// characters, ? any one, and a policy variable ${...} stands for any run.
func PolicyPattern(s string) Pattern {
	var p Pattern
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '*':
			p = append(p, elem{kind: star})
		case c == '?':
			p = append(p, elem{kind: one})
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				p = append(p, elem{kind: star})
				i += end
				continue
			}
			p = append(p, elem{kind: lit, c: c})
		default:
			p = append(p, elem{kind: lit, c: c})
		}
	}
	return p
}

// FormatPattern parses an ARN format of the Service Authorization Reference,
// such as arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}.
// A variable stands for a non-empty value without ':' (a partition, region,
// account, id or name); ${BucketName} also has no '/'
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html),
// so a bucket is never an object. A * in a format is a wildcard.
func FormatPattern(format string) Pattern {
	var p Pattern
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '$' && i+1 < len(format) && format[i+1] == '{' {
			if end := strings.IndexByte(format[i:], '}'); end > 0 {
				if format[i:i+end+1] == "${BucketName}" {
					p = append(p, elem{kind: oneBucket}, elem{kind: starBucket})
				} else {
					p = append(p, elem{kind: oneSegment}, elem{kind: starSegment})
				}
				i += end
				continue
			}
		}
		if c == '*' {
			p = append(p, elem{kind: star})
			continue
		}
		p = append(p, elem{kind: lit, c: c})
	}
	return p
}

// compatible reports whether some single byte satisfies both consumers.
func compatible(a, b elem) bool {
	switch {
	case a.kind == lit && b.kind == lit:
		return a.c == b.c
	case a.kind == lit:
		return !b.excludes(a.c)
	case b.kind == lit:
		return !a.excludes(b.c)
	default:
		return true // every class holds letters
	}
}

// Overlap reports whether some string matches both a and b: a search over the
// product of the two patterns' automata, O(len(a)*len(b)).
func Overlap(a, b Pattern) bool {
	type state struct{ i, j int }
	seen := map[state]bool{}
	stack := []state{{0, 0}}
	push := func(s state) {
		if !seen[s] {
			seen[s] = true
			stack = append(stack, s)
		}
	}
	seen[state{0, 0}] = true
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.i == len(a) && s.j == len(b) {
			return true
		}
		if s.i < len(a) && a[s.i].isStar() {
			push(state{s.i + 1, s.j})
		}
		if s.j < len(b) && b[s.j].isStar() {
			push(state{s.i, s.j + 1})
		}
		if s.i < len(a) && s.j < len(b) && compatible(a[s.i], b[s.j]) {
			next := s
			if !a[s.i].isStar() {
				next.i++
			}
			if !b[s.j].isStar() {
				next.j++
			}
			if next != s {
				push(next)
			}
		}
	}
	return false
}
