package blocklist

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// MaxLineLen is the longest line, in bytes, that Parse accepts. Longer
// lines are an error rather than being split or truncated.
const MaxLineLen = 4096

// ParseError reports a bad line in a blocklist file. Its message has the
// form "name:line: reason", like a compiler's.
type ParseError struct {
	Name   string // file name given to Parse, or the path
	Line   int    // 1-based line number
	Reason string // what is wrong, quoting the offending text
}

// Error implements error.
func (e *ParseError) Error() string {
	return e.Name + ":" + strconv.Itoa(e.Line) + ": " + e.Reason
}

// Parse reads a blocklist file in ZMap's format and returns the set of the
// addresses it lists. name is used only in error messages.
//
// Each line holds one entry: a CIDR prefix (1.2.3.0/24), a single address
// (1.2.3.4) or an inclusive range (1.2.3.4-1.2.3.9). A '#' starts a comment
// that runs to the end of the line; blank lines and surrounding spaces and
// tabs are ignored, as is a UTF-8 byte-order mark and a trailing '\r'. A
// prefix with host bits set is masked, as ZMap does (1.2.3.4/24 means
// 1.2.3.0/24). IPv6 entries, IPv4-mapped IPv6 addresses, zoned addresses
// and ranges whose first address is after their last are errors.
//
// The first bad line stops parsing and is returned as a *ParseError; no
// line is ever skipped silently. A read error is returned wrapped with the
// name. Parse reads all of r into memory first (an opt-out list of 10,000
// lines is about 200 KB).
func Parse(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("blocklist: reading %s: %w", name, err)
	}
	// One string for the whole file: lines are substrings of it, so a
	// line costs no allocation.
	text := strings.TrimPrefix(string(data), "\ufeff")
	var spans []span
	for line := 1; text != ""; line++ {
		l, rest, _ := strings.Cut(text, "\n")
		text = rest
		if len(l) > MaxLineLen {
			return nil, &ParseError{Name: name, Line: line,
				Reason: fmt.Sprintf("line longer than %d bytes", MaxLineLen)}
		}
		s, ok, reason := parseLine(l)
		if reason != "" {
			return nil, &ParseError{Name: name, Line: line, Reason: reason}
		}
		if ok {
			spans = append(spans, s)
		}
	}
	return fromSpans(normalize(spans)), nil
}

// parseLine parses one line. It returns ok=false for a blank or comment
// line and a non-empty reason for a bad one.
func parseLine(text string) (s span, ok bool, reason string) {
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimFunc(text, isSpace)
	if text == "" {
		return span{}, false, ""
	}
	if strings.IndexFunc(text, isSpace) >= 0 {
		return span{}, false, fmt.Sprintf("more than one entry on a line %q", text)
	}
	if strings.Contains(text, "/") {
		p, err := netip.ParsePrefix(text)
		if err != nil || !p.Addr().Is4() {
			return span{}, false, fmt.Sprintf("invalid prefix %q", text)
		}
		s, _ := prefixSpan(p)
		return s, true, ""
	}
	if first, last, isRange := strings.Cut(text, "-"); isRange {
		f, okf := parseAddr4(first)
		l, okl := parseAddr4(last)
		if !okf || !okl {
			return span{}, false, fmt.Sprintf("invalid range %q", text)
		}
		if f > l {
			return span{}, false, fmt.Sprintf("invalid range %q: first address after last", text)
		}
		return span{f, l}, true, ""
	}
	v, okv := parseAddr4(text)
	if !okv {
		return span{}, false, fmt.Sprintf("invalid address %q", text)
	}
	return span{v, v}, true, ""
}

// isSpace reports whether r separates entries: ASCII space, tab, CR, VT
// or FF.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\v' || r == '\f'
}

// parseAddr4 parses a dotted-quad IPv4 address.
func parseAddr4(s string) (uint32, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	return u32(a), true
}

// ParseFile parses the blocklist file at path; errors name the path.
func ParseFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// ParseFiles parses every file in paths and returns the union of their
// sets. With no paths it returns the empty set. The first failure is
// returned.
func ParseFiles(paths ...string) (*Set, error) {
	var spans []span
	for _, p := range paths {
		s, err := ParseFile(p)
		if err != nil {
			return nil, err
		}
		spans = append(spans, s.spans()...)
	}
	return fromSpans(normalize(spans)), nil
}
