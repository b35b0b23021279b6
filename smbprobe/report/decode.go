package report

// A fast path for decoding a record, for the common shape of smbprobe's
// output. It is deliberately partial: it accepts only JSON it can decode
// exactly as encoding/json would into a record, and answers false (so the
// caller falls back to encoding/json, the reference) on anything else:
// escapes or non-ASCII in a decoded string, keys that are not lower-case
// ASCII (encoding/json matches keys case-insensitively), a duplicate known
// key, a value of the wrong type, numbers out of range, nesting deeper
// than maxSkipDepth. Unknown values are skipped with full syntax checking
// (RFC 8259), since encoding/json rejects a line with any syntax error.
// FuzzDecodeFast checks the agreement with encoding/json.

// maxSkipDepth bounds the nesting of skipped values; deeper input goes to
// encoding/json.
const maxSkipDepth = 64

type scanner struct {
	b     []byte
	i     int
	depth int                   // of the known object being decoded
	seen  [maxKnownDepth]uint64 // known keys seen, per depth
}

// maxKnownDepth is the nesting of the record's known objects
// (record.smb.smb1.ntlm is 4 deep).
const maxKnownDepth = 5

// decodeFast decodes line into r, which must be zero, or returns false.
func decodeFast(line []byte, r *record) bool {
	s := &scanner{b: line}
	if !s.object(func(k []byte) bool {
		switch string(k) {
		case "ip":
			return s.once(0) && s.str(&r.IP)
		case "port":
			return s.once(1) && s.u16(&r.Port)
		case "status":
			return s.once(2) && s.str(&r.Status)
		case "timestamp":
			return s.once(3) && s.str(&r.Timestamp)
		case "smb":
			return s.once(4) && ptr(s, &r.SMB, s.smb)
		case "flags":
			return s.once(5) && s.strs(&r.Flags)
		case "scan":
			return s.once(6) && ptr(s, &r.Scan, s.scan)
		}
		return s.skip(0)
	}) {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

func (s *scanner) smb(v *smbRec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "smb1":
			return s.once(0) && ptr(s, &v.SMB1, s.smb1)
		case "dialect":
			return s.once(1) && s.str(&v.Dialect)
		case "signing":
			return s.once(2) && ptr(s, &v.Signing, s.signing)
		case "contexts":
			return s.once(3) && ptr(s, &v.Contexts, s.contexts)
		case "ntlm":
			return s.once(4) && ptr(s, &v.NTLM, s.ntlm)
		case "guest":
			return s.once(5) && ptr(s, &v.Guest, s.guest)
		}
		return s.skip(0)
	})
}

func (s *scanner) smb1(v *smb1Rec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "enabled":
			return s.once(0) && s.boolean(&v.Enabled)
		case "native_os":
			return s.once(1) && s.str(&v.NativeOS)
		case "native_lanman":
			return s.once(2) && s.str(&v.NativeLanMan)
		case "signing":
			return s.once(3) && ptr(s, &v.Signing, s.signing)
		case "ntlm":
			return s.once(4) && ptr(s, &v.NTLM, s.ntlm)
		}
		return s.skip(0)
	})
}

func (s *scanner) signing(v *signingRec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "enabled":
			return s.once(0) && s.boolean(&v.Enabled)
		case "required":
			return s.once(1) && s.boolean(&v.Required)
		}
		return s.skip(0)
	})
}

func (s *scanner) contexts(v *contextsRec) bool {
	return s.object(func(k []byte) bool {
		if string(k) == "cipher" {
			return s.once(0) && s.str(&v.Cipher)
		}
		return s.skip(0)
	})
}

func (s *scanner) ntlm(v *ntlmRec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "netbios_computer":
			return s.once(0) && s.str(&v.NetBIOSComputer)
		case "netbios_domain":
			return s.once(1) && s.str(&v.NetBIOSDomain)
		case "os_version":
			return s.once(2) && s.str(&v.OSVersion)
		case "os_name":
			return s.once(3) && s.str(&v.OSName)
		}
		return s.skip(0)
	})
}

func (s *scanner) guest(v *guestRec) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "allowed":
			return s.once(0) && s.boolean(&v.Allowed)
		case "encryption_required":
			return s.once(1) && s.boolean(&v.EncryptionRequired)
		case "shares":
			return s.once(2) && s.strs(&v.Shares)
		}
		return s.skip(0)
	})
}

func (s *scanner) scan(v *scanRec) bool {
	return s.object(func(k []byte) bool {
		if string(k) == "flags" {
			return s.once(0) && s.strs(&v.Flags)
		}
		return s.skip(0)
	})
}

// once marks known key number bit of the current object as seen,
// failing on a repeat.
func (s *scanner) once(bit uint) bool {
	seen := &s.seen[s.depth]
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// ws skips JSON whitespace (RFC 8259 §2).
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// literal consumes lit if it is next.
func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// object parses an object whose keys are lower-case ASCII, calling field
// with the scanner just before each value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.eat('{') || s.depth+1 >= maxKnownDepth {
		return false
	}
	s.depth++
	s.seen[s.depth] = 0
	defer func() { s.depth-- }()
	if s.eat('}') {
		return true
	}
	for {
		if !s.eat('"') {
			return false
		}
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != '"' {
			c := s.b[s.i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return false
			}
			s.i++
		}
		if s.i == len(s.b) {
			return false
		}
		key := s.b[start:s.i]
		s.i++
		if !s.eat(':') {
			return false
		}
		s.ws()
		if !field(key) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// ptr decodes null (leaving *p nil) or an object into a new *p.
func ptr[T any](s *scanner, p **T, dec func(*T) bool) bool {
	if s.literal("null") {
		*p = nil
		return true
	}
	v := new(T)
	if !dec(v) {
		return false
	}
	*p = v
	return true
}

// str decodes null (no change, as encoding/json) or a string of printable
// ASCII without escapes.
func (s *scanner) str(p *string) bool {
	if s.literal("null") {
		return true
	}
	v, ok := s.plainString()
	if ok {
		*p = v
	}
	return ok
}

func (s *scanner) plainString() (string, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return string(s.b[start:j]), true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", false
		}
	}
	return "", false
}

// strs decodes null (nil) or an array of plain strings.
func (s *scanner) strs(p *[]string) bool {
	if s.literal("null") {
		*p = nil
		return true
	}
	if !s.eat('[') {
		return false
	}
	out := []string{}
	if !s.eat(']') {
		for {
			s.ws()
			v, ok := s.plainString()
			if !ok {
				return false
			}
			out = append(out, v)
			if s.eat(',') {
				continue
			}
			if !s.eat(']') {
				return false
			}
			break
		}
	}
	*p = out
	return true
}

func (s *scanner) boolean(p *bool) bool {
	switch {
	case s.literal("true"):
		*p = true
	case s.literal("false"):
		*p = false
	case s.literal("null"):
	default:
		return false
	}
	return true
}

// u16 decodes null (no change) or a decimal integer 0…65535.
func (s *scanner) u16(p *uint16) bool {
	if s.literal("null") {
		return true
	}
	start, n := s.i, 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
		if n > 0xffff {
			return false
		}
	}
	if s.i == start || (s.b[start] == '0' && s.i-start > 1) {
		return false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] { // a fraction or exponent: not an integer
		case '.', 'e', 'E':
			return false
		}
	}
	*p = uint16(n)
	return true
}

// skip consumes any JSON value, checking its syntax.
func (s *scanner) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{':
		s.i++
		if s.eat('}') {
			return true
		}
		for {
			s.ws()
			if !s.skipString() || !s.eat(':') || !s.skip(depth+1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case c == '[':
		s.i++
		if s.eat(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case c == '-' || '0' <= c && c <= '9':
		return s.skipNumber()
	}
	return s.literal("true") || s.literal("false") || s.literal("null")
}

// skipString consumes a string (RFC 8259 §7): no control characters,
// only the defined escapes. Other bytes pass, as in encoding/json.
func (s *scanner) skipString() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
}

// skipNumber consumes a number (RFC 8259 §6):
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) skipNumber() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
