package server

import (
	"strings"
	"testing"
)

// TestScriptStruct compares the struct library's bytes, values and
// errors with redis-server's: the integer widths and endianness, the
// alignment, x86-64's conversions of numbers out of range, and the C
// library's own quirks (an argument error counted one past the string
// too short, 'c0' taking its size from the value before it).
func TestScriptStruct(t *testing.T) { againstBoth(t, scriptStructScenario) }

func scriptStructScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	for _, tc := range structCases {
		body := tc.body
		if tc.hex {
			body = mpHex + "return hex(" + body + ")"
		}
		want := tc.want
		if strings.HasPrefix(want, "-") { // raised at line 1
			want = want + " script: " + scriptSHA(body) + ", on @user_script:1."
		}
		if got := c.do("EVAL", body, "0"); got != want {
			t.Errorf("EVAL %q = %q, want %q", body, got, want)
		}
	}
}

// structCases are scripts and Redis's replies; hex wraps the body's
// string in hex(); a want that is an error is raised at line 1.
var structCases = []struct {
	body string
	hex  bool
	want string
}{
	{"struct.pack('>I2', 258)", true, "$0102"},
	{"struct.pack('z', 1)", true, "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z')"},
	{"struct.pack('i33', 1)", true, "-ERR user_script:1: integral size 33 is larger than limit of 32"},
	{"return {struct.unpack('>i2', 'ab')}", false, "[:24930 :3]"},
	{"return struct.unpack('c0', 'ab')", false, "-ERR user_script:1: format 'c0' needs a previous size"},
	{"return struct.size('s')", false, "-ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)"},
	{"return struct.size('c0')", false, "-ERR user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)"},
	{"return struct.size('!4bi')", false, ":8"},
	{"return struct.size('!bi')", false, ":8"},
	{"return struct.size('bi')", false, ":5"},
	{"return struct.size('z')", false, ":0"},
	{"return struct.size('?')", false, "-ERR user_script:1: bad argument #1 to 'size' (invalid format option '?')"},
	{"return struct.unpack('i', 'ab')", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"return struct.unpack('i', 'abcd', 0)", false, "-ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)"},
	{"return struct.unpack('i', 'abcd', -1)", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"return struct.unpack('i', 'abcd', 'x')", false, "-ERR user_script:1: bad argument #3 to 'unpack' (number expected, got string)"},
	{"return {struct.unpack('i', 'abcd', '1')}", false, "[:1684234849 :5]"},
	{"return {struct.unpack('b', 'abcd', 2.9)}", false, "[:98 :3]"},
	{"struct.pack('!3i', 1)", true, "-ERR user_script:1: alignment 3 is not a power of 2"},
	{"struct.pack('!0i', 1)", true, "-ERR user_script:1: alignment 0 is not a power of 2"},
	{"struct.pack('i99999999999', 1)", true, "-ERR user_script:1: integral size overflow"},
	{"struct.pack('i2147483647', 1)", true, "-ERR user_script:1: integral size 2147483647 is larger than limit of 32"},
	{"struct.pack('s', 'ab', 1)", true, "$616200"},
	{"struct.pack('c5', 'ab')", true, "-ERR user_script:1: bad argument #3 to 'pack' (string too short)"},
	{"struct.pack('c0', 'ab')", true, "$6162"},
	{"struct.pack('i', 'x')", true, "-ERR user_script:1: bad argument #2 to 'pack' (number expected, got string)"},
	{"struct.pack('i', '12')", true, "$0c000000"},
	{"struct.pack('i', ' 0x10 ')", true, "$10000000"},
	{"struct.pack('i')", true, "-ERR user_script:1: bad argument #2 to 'pack' (number expected, got nil)"},
	{"return struct.unpack('s', 'abc')", false, "-ERR user_script:1: unfinished string in data"},
	{"return struct.pack()", false, "-ERR user_script:1: bad argument #1 to 'pack' (string expected, got no value)"},
	{"struct.pack(12, 1)", true, "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option '1')"},
	{"return {struct.unpack('<I10', struct.pack('<i10', -2))}", false, "[:-9223372036854775808 :11]"},
	{"return {struct.unpack('<i10', struct.pack('<i10', -2))}", false, "[:-2 :11]"},
	{"return {struct.unpack('>i9', struct.pack('>i9', -2))}", false, "[:-2 :10]"},
	{"return {struct.unpack('i0', 'abc')}", false, "[:0 :1]"},
	{"struct.pack('<i10', -2)", true, "$feffffffffffffff0000"},
	{"struct.pack('<I8', 2^64)", true, "$0000000000000000"},
	{"struct.pack('<I8', 0/0)", true, "$0000000000000080"},
	{"struct.pack('<i8', -2^70)", true, "$0000000000000080"},
	{"struct.pack('<i8', 2^63)", true, "$0000000000000080"},
	{"struct.pack('<I8', 1e30)", true, "$0000000000000000"},
	{"struct.pack('<I8', 1/0)", true, "$0000000000000000"},
	{"struct.pack('<I8', -1/0)", true, "$0000000000000080"},
	{"struct.pack('<i3 >i3 !4 b i h l L T f d x', 1, 2, 3, 4, 5, 6, 7, 8, 1.5, 2.25)", true, "$010000000002030000000004000500000000000000000006000000000000000700000000000000083fc00000400200000000000000"},
	{"return {struct.unpack('<i3 >i3 !4 b i h l L T f d x', struct.pack('<i3 >i3 !4 b i h l L T f d x', 1, -2, 3, -4, 5, 6, 7, 8, 1.5, 2.25))}", false, "[:1 :-2 :3 :-4 :5 :6 :7 :8 :1 :2 :54]"},
	{"return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 0.1))}", false, "[:1 :0 :17]"},
	{"return {struct.unpack('s s', struct.pack('s s', 'hello', 'wor\\0ld'))}", false, "[$hello $wor :11]"},
	{"return {struct.unpack('B c0', struct.pack('B c0', 3, 'abc'))}", false, "[$abc :5]"},
	{"return {struct.unpack('c1 c0', '3abcdef')}", false, "[$abc :5]"},
	{"return {struct.unpack('c1 c0', 'xabcdef')}", false, "-ERR user_script:1: format 'c0' needs a previous size"},
	{"return {struct.unpack('B c0', '\\255abc')}", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"return {struct.unpack('>f', struct.pack('>f', 0.1))}", false, "[:0 :5]"},
	{"struct.pack('c', 123)", true, "$31"},
	{"struct.pack(1.5, 1)", true, "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option '1')"},
	{"return {struct.unpack('!2 b h', '\\1\\0\\2\\3')}", false, "[:1 :770 :5]"},
	{"return {struct.unpack('!16 b i16', string.rep('\\255', 32))}", false, "[:-1 :-1 :33]"},
	{"return {struct.unpack('x x b', 'ab')}", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"return struct.unpack('b', 'a', 5)", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"return #{struct.unpack(string.rep('b', 7990), string.rep('a', 7990))}", false, ":7991"},
	{"return #{struct.unpack(string.rep('b', 8000), string.rep('a', 8000))}", false, "-ERR user_script:1: stack overflow (too many results)"},
	{"return {struct.unpack('I', struct.pack('I', 4294967295))}", false, "[:4294967295 :5]"},
	{"return {struct.unpack('i', struct.pack('i', 4294967295))}", false, "[:-1 :5]"},
	{"return {struct.unpack('h', struct.pack('h', -32769))}", false, "[:32767 :3]"},
	{"struct.pack('x!3')", true, "-ERR user_script:1: alignment 3 is not a power of 2"},
	{"struct.pack('!', 1)", true, "$"},
	{"return struct.size('!')", false, ":0"},
	{"return struct.size('!5')", false, "-ERR user_script:1: alignment 5 is not a power of 2"},
	{"return struct.size(' ')", false, ":0"},
	{"return struct.size('i40')", false, "-ERR user_script:1: integral size 40 is larger than limit of 32"},
	{"return type(struct)", false, "$table"},
	{"struct.pack('i i i', 1)", true, "-ERR user_script:1: bad argument #3 to 'pack' (number expected, got nil)"},
	{"struct.pack('s i', 'a')", true, "-ERR user_script:1: bad argument #3 to 'pack' (number expected, got nil)"},
	{"return struct.unpack('i')", false, "-ERR user_script:1: bad argument #2 to 'unpack' (string expected, got no value)"},
	{"return struct.size()", false, "-ERR user_script:1: bad argument #1 to 'size' (string expected, got no value)"},
	{"struct.pack('c0')", true, "-ERR user_script:1: bad argument #2 to 'pack' (string expected, got nil)"},
	{"struct.pack('>d<d', 1.5, 1.5)", true, "$3ff8000000000000000000000000f83f"},
	{"return struct.unpack('>f', '\\127\\192\\0\\0')", false, ":-9223372036854775808"},
	{"struct.pack('l', -1.5)", true, "$ffffffffffffffff"},
	{"return {struct.unpack('l', struct.pack('l', -1.5))}", false, "[:-1 :9]"},
	{"return {struct.unpack('<d', struct.pack('<d', 0/0))}", false, "[:-9223372036854775808 :9]"},
	{"struct.pack(' ')", true, "$"},
	{"struct.pack('!1073741824 i', 1)", true, "$01000000"},
	{"return struct.unpack('c2147483647', 'ab')", false, "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
	{"struct.pack('c2147483648', 'ab')", true, "-ERR user_script:1: integral size overflow"},
}
