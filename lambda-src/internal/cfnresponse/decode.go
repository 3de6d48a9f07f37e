package cfnresponse

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// PropertyError reports a resource property that Decode could not read. Its message names the
// property and what was expected but never the value, which may be a secret and would otherwise
// reach the CloudFormation console and the logs.
type PropertyError struct {
	// Property is the path of the property: "Port", "Tags[1].Key" for a string that did not
	// convert, or json's dotted path ("Tags.Key") for a value of the wrong JSON kind.
	Property string
	// Expected describes what the target field accepts, for example "a whole number".
	Expected string
	// Err is the underlying conversion or decoding error. It may quote the value: log it only
	// where the properties hold no secrets.
	Err error
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("cfnresponse: property %q: expected %s", e.Property, e.Expected)
}

func (e *PropertyError) Unwrap() error { return e.Err }

// Decode reads props (normally Event.ResourceProperties) into v, a non-nil pointer to a struct
// (or to a map), through a JSON round trip, so fields are matched as encoding/json matches them:
// by json tag or field name, exact match first, then case-insensitively. Properties without a
// field, such as the ServiceToken CloudFormation always adds, are ignored; v is only written to
// when every property decodes.
//
// CloudFormation passes every scalar as a string, even a number or boolean in the template.
// String fields are therefore the plainest choice; Decode also converts a string property into a
// bool field ("true" or "false"), an integer field ("123"), an unsigned field or a float field,
// at any depth (nested structs, lists, maps, pointers). Fields whose type implements
// json.Unmarshaler or encoding.TextUnmarshaler, and fields tagged `json:",string"`, receive the
// string unchanged. Decode does not check for required properties: validate the struct after.
//
// An error is a *PropertyError naming the property and what its field expects.
func Decode(props map[string]any, v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("cfnresponse: Decode needs a non-nil pointer to a struct, got %T", v)
	}
	target := indirect(rv.Type().Elem())
	if k := target.Kind(); k != reflect.Struct && !(k == reflect.Map && target.Key().Kind() == reflect.String) {
		return fmt.Errorf("cfnresponse: Decode needs a pointer to a struct or a map with string keys, got %T", v)
	}

	converted, err := convert(map[string]any(props), target, "")
	if err != nil {
		return err
	}
	fields := converted.(map[string]any)

	// Decoding one property at a time attributes an error to its property even when json does
	// not (a failing UnmarshalJSON reports no field); keys are sorted so the error is stable.
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		one, err := json.Marshal(map[string]any{k: fields[k]})
		if err != nil {
			return &PropertyError{Property: k, Expected: "a JSON value", Err: err}
		}
		if err := json.Unmarshal(one, reflect.New(target).Interface()); err != nil {
			return propertyError(k, target, err)
		}
	}

	all, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("cfnresponse: encoding properties: %w", err)
	}
	if err := json.Unmarshal(all, v); err != nil {
		return fmt.Errorf("cfnresponse: decoding properties: %w", err)
	}
	return nil
}

// propertyError describes err, from decoding property key into a value of type target.
func propertyError(key string, target reflect.Type, err error) error {
	if ute, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && ute.Type != nil {
		path := ute.Field
		if path == "" {
			path = key
		}
		return &PropertyError{Property: path, Expected: describe(ute.Type), Err: err}
	}
	expected := "a valid value"
	if target.Kind() == reflect.Map {
		expected = describe(target.Elem())
	} else if f, ok := lookupField(target, key); ok {
		expected = describe(f.typ)
	}
	return &PropertyError{Property: key, Expected: expected, Err: err}
}

// convert returns a copy of v in which strings that sit where t holds a bool or a number are
// parsed into that type. It never modifies v, which is the caller's event.
func convert(v any, t reflect.Type, path string) (any, error) {
	t = indirect(t)
	if decodesItself(t) {
		return v, nil
	}
	switch val := v.(type) {
	case string:
		return convertString(val, t, path)
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			out := make(map[string]any, len(val))
			for k, x := range val {
				f, ok := lookupField(t, k)
				if !ok || f.quoted {
					out[k] = x
					continue
				}
				c, err := convert(x, f.typ, joinPath(path, k))
				if err != nil {
					return nil, err
				}
				out[k] = c
			}
			return out, nil
		case reflect.Map:
			out := make(map[string]any, len(val))
			for k, x := range val {
				c, err := convert(x, t.Elem(), joinPath(path, k))
				if err != nil {
					return nil, err
				}
				out[k] = c
			}
			return out, nil
		}
	case []any:
		if (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8 {
			out := make([]any, len(val))
			for i, x := range val {
				c, err := convert(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				out[i] = c
			}
			return out, nil
		}
	}
	return v, nil
}

func convertString(s string, t reflect.Type, path string) (any, error) {
	var (
		out any
		err error
	)
	switch t.Kind() {
	case reflect.Bool:
		out, err = strconv.ParseBool(strings.TrimSpace(s))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		out, err = strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out, err = strconv.ParseUint(strings.TrimSpace(s), 10, t.Bits())
	case reflect.Float32, reflect.Float64:
		var f float64
		f, err = strconv.ParseFloat(strings.TrimSpace(s), t.Bits())
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = errors.New("not a finite number")
		}
		out = f
	default:
		return s, nil
	}
	if err != nil {
		return nil, &PropertyError{Property: path, Expected: describe(t), Err: err}
	}
	return out, nil
}

// describe says, for an error message, what a field of type t accepts.
func describe(t reflect.Type) string {
	t = indirect(t)
	if decodesItself(t) {
		return "a valid " + t.String()
	}
	sized := func(what string) string {
		if t.Kind() == reflect.Int || t.Kind() == reflect.Int64 {
			return what
		}
		return what + " that fits in " + t.Kind().String()
	}
	switch t.Kind() {
	case reflect.Bool:
		return `"true" or "false"`
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return sized("a whole number")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return sized("a non-negative whole number")
	case reflect.Float32, reflect.Float64:
		return "a finite number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Interface:
		return "any value"
	}
	return "a value of type " + t.String()
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether json hands values of t to t's own UnmarshalJSON or
// UnmarshalText, which then gets the string as CloudFormation sent it.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Kind() != reflect.Interface && (p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler))
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type field struct {
	name   string
	typ    reflect.Type
	quoted bool // `json:",string"`: json itself expects the value as a string
}

// lookupField finds the field json would fill from key: exact name first, then
// case-insensitive, as encoding/json matches.
func lookupField(t reflect.Type, key string) (field, bool) {
	fields := structFields(t)
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return field{}, false
}

// structFields lists t's fields under their json names, with untagged embedded structs
// flattened as json flattens them.
func structFields(t reflect.Type) []field {
	var fields []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			if et := indirect(sf.Type); et.Kind() == reflect.Struct {
				fields = append(fields, structFields(et)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, field{name: name, typ: sf.Type, quoted: slices.Contains(strings.Split(opts, ","), "string")})
	}
	return fields
}
