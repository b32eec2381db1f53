package config

// globMatch reports whether name matches pattern under Redis's glob rules
// (stringmatchlen), ignoring ASCII case: * any run, ? one byte, [abc] [^abc]
// [a-z] classes, and \ to take the next byte literally. A '*' is retried by
// moving only the most recent one forward, so the cost is bounded by
// len(pattern)*len(name) whatever the pattern.
func globMatch(pattern, name string) bool {
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(name) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starS = p, s
				continue
			case '?':
				p++
				s++
				continue
			case '[':
				if end, ok := matchClass(pattern, p, name[s]); ok {
					p = end
					s++
					continue
				}
			case '\\':
				if p+1 < len(pattern) {
					if lower(pattern[p+1]) == lower(name[s]) {
						p += 2
						s++
						continue
					}
					break
				}
				if lower(pattern[p]) == lower(name[s]) {
					p++
					s++
					continue
				}
			default:
				if lower(pattern[p]) == lower(name[s]) {
					p++
					s++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		p, s = starP, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches b against the [...] class starting at pattern[p] and
// returns the index just past the class. Like Redis, a class missing its ']'
// runs to the end of the pattern.
func matchClass(pattern string, p int, b byte) (end int, ok bool) {
	p++
	not := p < len(pattern) && pattern[p] == '^'
	if not {
		p++
	}
	match := false
	for ; p < len(pattern); p++ {
		c := pattern[p]
		switch {
		case c == '\\' && p+1 < len(pattern):
			p++
			if lower(pattern[p]) == lower(b) {
				match = true
			}
		case c == ']':
			return p + 1, match != not
		case p+2 < len(pattern) && pattern[p+1] == '-':
			lo, hi := lower(c), lower(pattern[p+2])
			if lo > hi {
				lo, hi = hi, lo
			}
			if lo <= lower(b) && lower(b) <= hi {
				match = true
			}
			p += 2
		default:
			if lower(c) == lower(b) {
				match = true
			}
		}
	}
	return p, match != not
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
