package engine

import (
	"strconv"

	"github.com/tidwall/redcon"
)

// RESP3 replies. A client that said HELLO 3 gets Redis's RESP3 types: a
// map where RESP2 has an array of pairs, a set for the set commands, a
// double for a score, and one null for the two of RESP2 ($-1 and *-1).
// Each helper writes the RESP2 form when resp3 is false, so a command
// writes its reply once for both protocols, as Redis's addReplyMapLen
// and its kin do.

// AppendMap appends the header of a map of n pairs (RESP2: an array of
// 2n elements).
func AppendMap(b []byte, resp3 bool, n int) []byte {
	if !resp3 {
		return redcon.AppendArray(b, 2*n)
	}
	return appendHeader(b, '%', n)
}

// AppendSet appends the header of a set of n elements (RESP2: an array).
func AppendSet(b []byte, resp3 bool, n int) []byte {
	if !resp3 {
		return redcon.AppendArray(b, n)
	}
	return appendHeader(b, '~', n)
}

// AppendPush appends the header of an out-of-band push of n elements
// (RESP2: an array), as pub/sub messages are.
func AppendPush(b []byte, resp3 bool, n int) []byte {
	if !resp3 {
		return redcon.AppendArray(b, n)
	}
	return appendHeader(b, '>', n)
}

// AppendDouble appends a double as Redis's addReplyDouble does: "%.17g",
// inf and -inf; RESP2 as a bulk string.
func AppendDouble(b []byte, resp3 bool, f float64) []byte {
	if !resp3 {
		return redcon.AppendBulkString(b, formatScore(f))
	}
	b = appendScore(append(b, ','), f)
	return append(b, '\r', '\n')
}

// AppendBool appends a boolean (RESP2: the integer 1 or 0).
func AppendBool(b []byte, resp3, v bool) []byte {
	switch {
	case !resp3 && v:
		return append(b, ":1\r\n"...)
	case !resp3:
		return append(b, ":0\r\n"...)
	case v:
		return append(b, "#t\r\n"...)
	}
	return append(b, "#f\r\n"...)
}

// AppendVerbatim appends text as a verbatim string of format "txt", as
// INFO and CLIENT LIST reply in RESP3 (RESP2: a bulk string).
func AppendVerbatim(b []byte, resp3 bool, text string) []byte {
	if !resp3 {
		return redcon.AppendBulkString(b, text)
	}
	b = append(b, '=')
	b = strconv.AppendInt(b, int64(len(text)+4), 10)
	b = append(b, "\r\ntxt:"...)
	b = append(b, text...)
	return append(b, '\r', '\n')
}

// AppendNull appends RESP3's null, or RESP2's null bulk string.
func AppendNull(b []byte, resp3 bool) []byte { return appendNull(b, resp3, "$-1\r\n") }

// AppendNullArray appends RESP3's null, or RESP2's null array.
func AppendNullArray(b []byte, resp3 bool) []byte { return appendNull(b, resp3, "*-1\r\n") }

func appendNull(b []byte, resp3 bool, resp2 string) []byte {
	if resp3 {
		return append(b, "_\r\n"...)
	}
	return append(b, resp2...)
}

func appendHeader(b []byte, kind byte, n int) []byte {
	b = append(b, kind)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// IsNullReply reports whether reply is a null of either protocol (a
// blocking command's "nothing yet").
func IsNullReply(reply []byte) bool {
	s := string(reply)
	return s == "*-1\r\n" || s == "$-1\r\n" || s == "_\r\n"
}
