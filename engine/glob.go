package engine

// globMatch reports whether s matches a Redis glob pattern: * ? [abc]
// [^abc] [a-z] and \ escapes, as Redis's stringmatchlen.
func globMatch(pattern, s []byte, nocase bool) bool {
	return globMatchDepth(pattern, s, nocase, 0)
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func globMatchDepth(p, s []byte, nocase bool, depth int) bool {
	if depth > 1000 {
		return false
	}
	eq := func(a, b byte) bool {
		if nocase {
			return lower(a) == lower(b)
		}
		return a == b
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatchDepth(p[1:], s[i:], nocase, depth+1) {
					return true
				}
			}
			return false
		case '?':
			s = s[1:]
			p = p[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for len(p) > 0 && p[0] != ']' {
				switch {
				case p[0] == '\\' && len(p) >= 2:
					p = p[1:]
					if eq(p[0], s[0]) {
						match = true
					}
				case len(p) >= 3 && p[1] == '-':
					start, end := p[0], p[2]
					if start > end {
						start, end = end, start
					}
					c := s[0]
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						match = true
					}
				default:
					if eq(p[0], s[0]) {
						match = true
					}
				}
				p = p[1:]
			}
			if len(p) > 0 { // skip ']'
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if !eq(p[0], s[0]) {
				return false
			}
			s = s[1:]
			p = p[1:]
		}
	}
	if len(s) == 0 {
		for len(p) > 0 && p[0] == '*' {
			p = p[1:]
		}
		return len(p) == 0
	}
	return false
}

// GlobMatch exposes the Redis glob matcher (PUBSUB patterns, CONFIG GET).
func GlobMatch(pattern, s string) bool { return globMatch([]byte(pattern), []byte(s), false) }

// GlobMatchFold is GlobMatch ignoring case (COMMAND LIST FILTERBY PATTERN).
func GlobMatchFold(pattern, s string) bool { return globMatch([]byte(pattern), []byte(s), true) }
