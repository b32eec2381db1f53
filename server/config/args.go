package config

import (
	"errors"
	"strings"
)

// errUnbalancedQuotes is Redis's text for a line sdssplitargs cannot split.
var errUnbalancedQuotes = errors.New("Unbalanced quotes in configuration line")

// SplitArgs splits one configuration line into arguments exactly like
// Redis's sdssplitargs: arguments are separated by blanks; "double quotes"
// understand \n \r \t \b \a \\ \" and \xHH; 'single quotes' understand only
// \'; a closing quote must be followed by a blank or the end of the line; a
// quote may start in the middle of an argument (ab"c d" is one argument).
func SplitArgs(line string) ([]string, error) {
	var args []string
	i, n := 0, len(line)
	for {
		for i < n && isBlank(line[i]) {
			i++
		}
		if i >= n {
			return args, nil
		}
		var cur []byte
		inDouble, inSingle := false, false
		for done := false; !done; {
			switch {
			case inDouble:
				switch {
				case i >= n:
					return nil, errUnbalancedQuotes
				case line[i] == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 3
				case line[i] == '\\' && i+1 < n:
					i++
					cur = append(cur, unescape(line[i]))
				case line[i] == '"':
					if i+1 < n && !isBlank(line[i+1]) {
						return nil, errUnbalancedQuotes
					}
					done = true
				default:
					cur = append(cur, line[i])
				}
			case inSingle:
				switch {
				case i >= n:
					return nil, errUnbalancedQuotes
				case line[i] == '\\' && i+1 < n && line[i+1] == '\'':
					i++
					cur = append(cur, '\'')
				case line[i] == '\'':
					if i+1 < n && !isBlank(line[i+1]) {
						return nil, errUnbalancedQuotes
					}
					done = true
				default:
					cur = append(cur, line[i])
				}
			default:
				if i >= n {
					done = true
					break
				}
				switch line[i] {
				case ' ', '\n', '\r', '\t':
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					cur = append(cur, line[i])
				}
			}
			if i < n {
				i++
			}
		}
		args = append(args, string(cur))
	}
}

// isBlank is C's isspace in the "C" locale.
func isBlank(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b <= '9':
		return b - '0'
	case b <= 'F':
		return b - 'A' + 10
	default:
		return b - 'a' + 10
	}
}

func unescape(b byte) byte {
	switch b {
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'b':
		return '\b'
	case 'a':
		return '\a'
	default:
		return b
	}
}

// quote renders s as a double-quoted argument that SplitArgs reads back as
// s, like Redis's sdscatrepr: printable ASCII as is, the usual escapes, and
// \xHH for every other byte.
func quote(s string) string {
	const hexDigits = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		default:
			if c < 0x20 || c > 0x7e {
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteIfNeeded returns s bare when SplitArgs reads it back unchanged as
// one argument, and quote(s) otherwise.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > 0x7e || c == '"' || c == '\'' || c == '\\' {
			return quote(s)
		}
	}
	return s
}
