package envelope

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalidConfig is matched (errors.Is) by every error ParseConfig and
// LoadConfig return for a configuration kube-apiserver would refuse. The
// errors are *ConfigError values that name the file, the entry and the field;
// they never contain a key or any other secret.
var ErrInvalidConfig = errors.New("invalid encryption configuration")

// ConfigError lists what is wrong with a configuration, like kube-apiserver's
// aggregated field errors but without values.
type ConfigError struct {
	File   string       // the path given to LoadConfig, empty for ParseConfig
	Fields []FieldError // in the order kube-apiserver checks them
}

// FieldError is one problem at one field path, such as
// "resources[0].providers[1].aescbc.keys[0].secret".
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	b.WriteString(ErrInvalidConfig.Error())
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// fieldName is a name that may be quoted back in an error: a letter, then
// at most 30 letters, digits, '_' or '-'.
const fieldName = `[A-Za-z][A-Za-z0-9_-]{0,30}`

// fieldErrorText renders an unknown or duplicate field error from its parts
// (kind, parent path, last name), quoting the last name only when it looks
// like a field name: a stray key may be a secret that lost its "secret:".
func fieldErrorText(m []string) string {
	kind, parent, last := m[1], m[2], m[3]
	if parent != "" && !fieldPath.MatchString(parent) {
		return kind + " field (not shown)"
	}
	full := last
	if parent != "" {
		full = parent + "." + last
	}
	switch {
	case fieldLast.MatchString(last):
		return fmt.Sprintf("%s field %q", kind, full)
	case parent != "":
		return fmt.Sprintf("%s field under %q (its name, %d bytes, is not a field name and is not shown)", kind, parent, len(last))
	}
	return fmt.Sprintf("%s field (its name, %d bytes, is not a field name and is not shown)", kind, len(last))
}

// nameLike matches what an apiVersion, kind, URL scheme or resource rule
// looks like; only such values are quoted back in errors.
var nameLike = regexp.MustCompile(`^[A-Za-z0-9._/*+-]{1,63}$`)

// quoteName quotes a value taken from the document if it looks like a name,
// and otherwise only says how long it is: a misquoted multi-line scalar can
// carry the lines after it, secrets included, into any string field.
func quoteName(s string) string {
	if nameLike.MatchString(s) {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("(a value of %d bytes, not shown)", len(s))
}

// decodeError renders a decoder error without any value from the document.
// The YAML decoders quote keys and values in several messages ("invalid map
// key: …", "unsupported map key of type …, value: …", "cannot unmarshal !!str
// `…`"), and a value may be a key secret, so only messages known to name
// fields alone, or that contain no quoting at all, are shown; any other
// becomes a generic message with its line number.
func decodeError(err error) string {
	msg := err.Error()
	switch {
	case fieldError.MatchString(msg):
		return fieldErrorText(fieldError.FindStringSubmatch(msg))
	case duplicateKeyError.MatchString(msg):
		return "duplicate " + duplicateKeyError.FindString(msg) + lineOf(msg)
	case !strings.ContainsAny(msg, "\"'`{}[]%\\") && !strings.Contains(msg, "map["):
		return msg
	}
	return "the document does not decode as an EncryptionConfiguration" + lineOf(msg)
}

var (
	// unknown field "resources[0].providers[0].aescbc.foo", duplicate field "secret"
	fieldError = regexp.MustCompile(`^(?:json: )?(unknown|duplicate) field "(?:([A-Za-z0-9_.\[\]-]{1,200})\.)?([^".]{1,200})"$`)
	// fieldPath is a path of names the decoder has matched to fields.
	fieldPath = regexp.MustCompile(`^` + fieldName + `(?:\[\d+\])*(?:\.` + fieldName + `(?:\[\d+\])*)*$`)
	// fieldLast is a name that may be quoted back: too short to hold a
	// whole base64 AES or secretbox key (24, 32 or 44 characters, the
	// shortest without '='), and led by a letter as field names are.
	fieldLast = regexp.MustCompile(`^` + fieldName + `(?:\[\d+\])*$`)
	// yaml.v2: line 5: key "resources" already set in map
	duplicateKeyError = regexp.MustCompile(`key "` + fieldName + `" already set in map`)
	lineNumber        = regexp.MustCompile(`line (\d+)`)
)

// lineOf returns " (line N)" for the first line number in msg, or "".
func lineOf(msg string) string {
	if m := lineNumber.FindStringSubmatch(msg); m != nil {
		return " (line " + m[1] + ")"
	}
	return ""
}
