package server

import (
	"strings"
	"testing"
)

// TestFloatArgumentsAsStrtod: float arguments read as C's strtod and
// strtold read them for Redis: hexadecimal mantissas are numbers, and a
// value that overflows, or underflows to zero, is refused; one that
// underflows to a subnormal is taken.
func TestFloatArgumentsAsStrtod(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		notFloat := "-ERR value is not a valid float"
		for _, st := range []struct{ want, cmd string }{
			{notFloat, "ZADD z 1e-400 m"},
			{notFloat, "ZADD z 2e-324 m"},
			{notFloat, "ZADD z 1e309 m"},
			{":1", "ZADD z 1e-320 m"},
			{":0", "ZADD z 0e-999 m"},
			{":1", "ZADD z .0e-5000 n"},
			{":1", "ZADD z 0x1.8p1 o"},
			{":1", "ZADD z -0x.8 p"},
			{":1", "ZADD z 0x10 q"},
			{notFloat, "ZADD z 0b101 r"},
			{notFloat, "ZADD z 1_0 r"},
			{"$16", "ZSCORE z q"},
			{"$3", "ZSCORE z o"},
			{"$-0.5", "ZSCORE z p"},
			{"$0", "INCRBYFLOAT f 1e-400"},
			{"$0", "INCRBYFLOAT f 3e-4951"},
			{notFloat, "INCRBYFLOAT f 1e-4951"},
			{notFloat, "INCRBYFLOAT f 1e-5000"},
			{notFloat, "INCRBYFLOAT f 1e4933"},
			{notFloat, "INCRBYFLOAT f 1e-99999999999"},
			{"$16", "INCRBYFLOAT g 0x10"},
			{"$16.125", "INCRBYFLOAT g 0x1p-3"},
			{notFloat, "INCRBYFLOAT g 0b1"},
			{notFloat, "HINCRBYFLOAT h a 1e-5000"},
			{"+OK", "SET s 1e-8763"},
			{notFloat, "INCRBYFLOAT s 0.25"},
		} {
			c.expect(st.want, strings.Fields(st.cmd)...)
		}
	})
}
