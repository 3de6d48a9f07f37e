package cfnresponse_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
)

type tag struct {
	Key    string
	Weight int
}

type inner struct {
	Name    string
	Enabled bool
}

type props struct {
	KeyId    string `json:"KeyId"`
	Rotate   bool
	Port     int
	Small    int8
	Count    uint16
	Ratio    float64
	Optional *bool
	Quoted   int `json:"Quoted,string"`
	When     time.Time
	Level    slog.Level // an int with its own UnmarshalText
	Tags     []tag
	Limits   map[string]int
	Inner    inner
	Ignored  string `json:"-"`
}

func TestDecode(t *testing.T) {
	tru := true
	when := time.Date(2025, 11, 28, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		props map[string]any
		want  props
	}{
		{
			name: "CloudFormation strings into typed fields",
			props: map[string]any{
				"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:f",
				"KeyId":        "alias/k",
				"Rotate":       "true",
				"Port":         "8443",
				"Small":        "-7",
				"Count":        "42",
				"Ratio":        "0.25",
				"Optional":     "true",
				"Quoted":       "17",
				"When":         "2025-11-28T14:00:00Z",
				"Level":        "WARN",
				"Tags":         []any{map[string]any{"Key": "a", "Weight": "1"}, map[string]any{"Key": "b", "Weight": "2"}},
				"Limits":       map[string]any{"cpu": "2"},
				"Inner":        map[string]any{"Name": "n", "Enabled": "false"},
				"Ignored":      "never decoded",
				"Unknown":      "ignored",
			},
			want: props{
				KeyId: "alias/k", Rotate: true, Port: 8443, Small: -7, Count: 42, Ratio: 0.25, Optional: &tru, Quoted: 17, When: when, Level: slog.LevelWarn,
				Tags: []tag{{"a", 1}, {"b", 2}}, Limits: map[string]int{"cpu": 2}, Inner: inner{Name: "n"},
			},
		},
		{
			name:  "native JSON types still decode",
			props: map[string]any{"Rotate": true, "Port": float64(443), "Tags": []any{map[string]any{"Key": "k", "Weight": float64(3)}}},
			want:  props{Rotate: true, Port: 443, Tags: []tag{{"k", 3}}},
		},
		{
			name:  "keys match case-insensitively, like encoding/json",
			props: map[string]any{"keyid": "alias/x", "ROTATE": "true"},
			want:  props{KeyId: "alias/x", Rotate: true},
		},
		{
			name:  "nil properties leave the zero value",
			props: nil,
			want:  props{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN resource properties as CloudFormation sends them
			// WHEN they are decoded into a typed struct
			var got props
			err := cfnresponse.Decode(tt.props, &got)

			// THEN every field holds the converted value
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name         string
		props        map[string]any
		target       any
		want         string // exact message
		wantProperty string // PropertyError.Property, "" when the error is not a *PropertyError
		secret       string // a value that must not appear in the message
	}{
		{
			name:  "bool that is not true or false",
			props: map[string]any{"Rotate": "yes-secret"}, target: &props{},
			want: `cfnresponse: property "Rotate": expected "true" or "false"`, wantProperty: "Rotate", secret: "yes-secret",
		},
		{
			name:  "integer that is not a number",
			props: map[string]any{"Port": "84x43"}, target: &props{},
			want: `cfnresponse: property "Port": expected a whole number`, wantProperty: "Port", secret: "84x43",
		},
		{
			name:  "integer out of range",
			props: map[string]any{"Small": "300"}, target: &props{},
			want: `cfnresponse: property "Small": expected a whole number that fits in int8`, wantProperty: "Small",
		},
		{
			name:  "negative unsigned",
			props: map[string]any{"Count": "-1"}, target: &props{},
			want: `cfnresponse: property "Count": expected a non-negative whole number that fits in uint16`, wantProperty: "Count",
		},
		{
			name:  "float that is not finite",
			props: map[string]any{"Ratio": "NaN"}, target: &props{},
			want: `cfnresponse: property "Ratio": expected a finite number`, wantProperty: "Ratio",
		},
		{
			name:  "bad value inside a list",
			props: map[string]any{"Tags": []any{map[string]any{"Weight": "1"}, map[string]any{"Weight": "heavy"}}}, target: &props{},
			want: `cfnresponse: property "Tags[1].Weight": expected a whole number`, wantProperty: "Tags[1].Weight",
		},
		{
			name:  "object where a string is expected",
			props: map[string]any{"KeyId": map[string]any{"Ref": "Key"}}, target: &props{},
			want: `cfnresponse: property "KeyId": expected a string`, wantProperty: "KeyId",
		},
		{
			name:  "wrong JSON kind nested in an object",
			props: map[string]any{"Inner": map[string]any{"Name": []any{"x"}}}, target: &props{},
			want: `cfnresponse: property "Inner.Name": expected a string`, wantProperty: "Inner.Name",
		},
		{
			name:  "string where a list is expected",
			props: map[string]any{"Tags": "a,b"}, target: &props{},
			want: `cfnresponse: property "Tags": expected a list`, wantProperty: "Tags",
		},
		{
			name:  "type with its own decoder rejects the value",
			props: map[string]any{"When": "not-a-time-secret"}, target: &props{},
			want: `cfnresponse: property "When": expected a valid time.Time`, wantProperty: "When", secret: "not-a-time-secret",
		},
		{
			name:  "json string option with a non-number",
			props: map[string]any{"Quoted": "seventeen"}, target: &props{},
			want: `cfnresponse: property "Quoted": expected a whole number`, wantProperty: "Quoted", secret: "seventeen",
		},
		{
			name:  "map target with a bad value",
			props: map[string]any{"cpu": "two"}, target: &map[string]int{},
			want: `cfnresponse: property "cpu": expected a whole number`, wantProperty: "cpu",
		},
		{
			name:  "target is not a pointer",
			props: map[string]any{}, target: props{},
			want: "cfnresponse: Decode needs a non-nil pointer to a struct, got cfnresponse_test.props",
		},
		{
			name:  "target is a nil pointer",
			props: map[string]any{}, target: (*props)(nil),
			want: "cfnresponse: Decode needs a non-nil pointer to a struct, got *cfnresponse_test.props",
		},
		{
			name:  "target is a pointer to a scalar",
			props: map[string]any{}, target: new(int),
			want: "cfnresponse: Decode needs a pointer to a struct or a map with string keys, got *int",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// GIVEN properties that do not fit the target
			// WHEN they are decoded
			err := cfnresponse.Decode(tt.props, tt.target)

			// THEN the one-line error names the property and what was expected, without the value
			if err == nil {
				t.Fatal("want an error, got nil")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q echoes the value", err)
			}
			var pe *cfnresponse.PropertyError
			if errors.As(err, &pe) != (tt.wantProperty != "") {
				t.Fatalf("errors.As PropertyError = %v, want %v", errors.As(err, &pe), tt.wantProperty != "")
			}
			if pe != nil && (pe.Property != tt.wantProperty || pe.Err == nil) {
				t.Errorf("PropertyError = %+v, want Property %q and a cause", pe, tt.wantProperty)
			}
		})
	}
}

func TestDecodeLeavesInputsAloneOnError(t *testing.T) {
	// GIVEN a struct with a value already set, and properties where one of two values is bad
	got := props{KeyId: "before", Port: 1}
	in := map[string]any{"KeyId": "after", "Port": "8443", "Rotate": "maybe"}

	// WHEN decoding fails
	err := cfnresponse.Decode(in, &got)

	// THEN the struct is untouched and the caller's properties are not converted in place
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if got.KeyId != "before" || got.Port != 1 {
		t.Errorf("target was partly written: %+v", got)
	}
	if in["Port"] != "8443" {
		t.Errorf("input map was modified: Port = %#v", in["Port"])
	}
}
