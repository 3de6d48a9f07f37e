package iampolicy

import "strings"

// logGroupUntagged lists the CloudWatch Logs actions that authorize a log group
// by its ARN without the trailing ":*". Every other action authorizes it as
// arn:...:log-group:NAME:*, which the Service Authorization Reference does not
// show; CloudWatch Logs documents it in
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html
// ("Use the second version, with the trailing :*, to refer to the ARN when
// specifying permissions in IAM policies for all other API actions").
var logGroupUntagged = map[string]bool{
	"tagresource": true, "untagresource": true, "listtagsforresource": true,
}

// Format is an ARN form under which an action authorizes a resource type.
type Format struct {
	Text    string
	Pattern Pattern
}

// Formats returns the ARN forms under which action a authorizes a resource
// of type target: the reference's ARN format, corrected where the service
// documents another form.
func (s *Service) Formats(a *Action, target ActionTarget) []Format {
	rt := s.resourceType(target.Name)
	if rt == nil {
		return nil
	}
	if s.Prefix == "logs" && rt.Key == "log-group" && !logGroupUntagged[strings.ToLower(a.Name)] {
		// A literal "*" follows the name, so the name is one segment.
		return []Format{{Text: rt.ARN + ":*", Pattern: append(FormatPattern(rt.ARN+":"), elem{kind: lit, c: '*'})}}
	}
	formats := []Format{{Text: rt.ARN, Pattern: FormatPattern(rt.ARN)}}
	if s.Prefix == "lambda" && rt.Key == "function" {
		// A version or alias qualifies the function ARN:
		// https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
		qualified := rt.ARN + ":${Qualifier}"
		formats = append(formats, Format{Text: qualified, Pattern: FormatPattern(qualified)})
	}
	return formats
}

// AcceptsResource reports whether resource can name a resource that action a
// authorizes: "*" always can; an action without resource types accepts only
// "*" (it supports no resource-level permissions).
func (s *Service) AcceptsResource(a *Action, resource Value) bool {
	if resource.Text == "*" {
		return true
	}
	for _, t := range a.ResourceTypes {
		for _, f := range s.Formats(a, t) {
			if Overlap(resource.Pattern, f.Pattern) {
				return true
			}
		}
	}
	return false
}

// resourceType returns a resource type by the name an action gives it; the
// reference keys resource types in lower case.
func (s *Service) resourceType(name string) *ResourceType {
	return s.ResourceTypes[strings.ToLower(name)]
}
