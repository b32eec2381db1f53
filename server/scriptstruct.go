package server

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// struct, the last of the libraries Redis gives scripts: Roberto
// Ierusalimschy's struct library as Redis 7.0 bundles it (pack, unpack
// and size), on the machine Redis runs on: little-endian by default, a
// short of 2 bytes, an int of 4, a long and a size_t of 8, and 8 as the
// native alignment. Where the C library leaves a conversion to the
// processor (a number out of an integer's range), this one gives what
// x86-64 gives, so that a script's bytes are Redis's.

const (
	structMaxIntSize = 32 // the widest integer an i or I option may name
	structMaxAlign   = 8  // '!' without a number: a double's alignment
	luaMaxCStack     = 8000
)

// structFormat walks a format string, keeping its endianness and
// alignment as the options change them.
type structFormat struct {
	L      *lua.LState
	fname  string // the function's name, for argument errors
	fmt    string
	i      int
	little bool
	align  uint64
}

func newStructFormat(L *lua.LState, fname string) *structFormat {
	return &structFormat{L: L, fname: fname, fmt: structCheckString(L, fname, 1), little: true, align: 1}
}

func (f *structFormat) more() bool { return f.i < len(f.fmt) }

// next returns the next option and the size it takes.
func (f *structFormat) next() (byte, uint64) {
	opt := f.fmt[f.i]
	f.i++
	switch opt {
	case 'b', 'B', 'x':
		return opt, 1
	case 'h', 'H':
		return opt, 2
	case 'f':
		return opt, 4
	case 'l', 'L', 'T', 'd':
		return opt, 8
	case 'c':
		return opt, uint64(f.num(1))
	case 'i', 'I':
		n := f.num(4)
		if n > structMaxIntSize {
			f.L.RaiseError("integral size %d is larger than limit of %d", n, structMaxIntSize)
		}
		return opt, uint64(n)
	}
	return opt, 0
}

// num reads the decimal number at the format's position, or returns def
// when there is none.
func (f *structFormat) num(def int) int {
	if f.i >= len(f.fmt) || !isDigit(f.fmt[f.i]) {
		return def
	}
	a := 0
	for f.i < len(f.fmt) && isDigit(f.fmt[f.i]) {
		d := int(f.fmt[f.i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			f.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		f.i++
	}
	return a
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// padding is how many bytes bring position pos to the alignment an
// option of the given size needs.
func (f *structFormat) padding(pos uint64, opt byte, size uint64) uint64 {
	if size == 0 || opt == 'c' {
		return 0
	}
	size = min(size, f.align)
	return (size - pos&(size-1)) & (size - 1)
}

// control applies an option that changes no bytes: a space, an
// endianness or an alignment; any other is an error.
func (f *structFormat) control(opt byte) {
	switch opt {
	case ' ':
	case '>':
		f.little = false
	case '<':
		f.little = true
	case '!':
		a := f.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			f.L.RaiseError("alignment %d is not a power of 2", a)
		}
		f.align = uint64(a)
	default:
		structArgError(f.L, f.fname, 1, "invalid format option '"+string(opt)+"'")
	}
}

func openStruct(L *lua.LState, globals *lua.LTable) {
	lib := L.NewTable()
	lib.RawSetString("pack", L.NewFunction(structPack))
	lib.RawSetString("unpack", L.NewFunction(structUnpack))
	lib.RawSetString("size", L.NewFunction(structSize))
	globals.RawSetString("struct", lib)
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L, "pack")
	var out []byte
	arg := 2
	for f.more() {
		opt, size := f.next()
		pad := f.padding(uint64(len(out)), opt, size)
		for ; pad > 0; pad-- {
			out = append(out, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			v := cToUint64(float64(structCheckNumber(L, "pack", arg)))
			arg++
			at := len(out)
			out = append(out, make([]byte, size)...)
			for i := uint64(0); i < size; i++ {
				b := byte(v)
				v >>= 8
				if f.little {
					out[at+int(i)] = b
				} else {
					out[at+int(size-1-i)] = b
				}
			}
		case 'x':
			out = append(out, 0)
		case 'f':
			bits := math.Float32bits(float32(structCheckNumber(L, "pack", arg)))
			arg++
			out = f.order().AppendUint32(out, bits)
		case 'd':
			bits := math.Float64bits(float64(structCheckNumber(L, "pack", arg)))
			arg++
			out = f.order().AppendUint64(out, bits)
		case 'c', 's':
			s := structCheckString(L, "pack", arg)
			arg++
			if size == 0 {
				size = uint64(len(s))
			}
			if uint64(len(s)) < size {
				structArgError(L, "pack", arg, "string too short") // arg, as the C library counts it
			}
			out = append(out, s[:size]...)
			if opt == 's' {
				out = append(out, 0)
			}
		default:
			f.control(opt)
		}
	}
	L.Push(lua.LString(out))
	return 1
}

func (f *structFormat) order() interface {
	binary.ByteOrder
	binary.AppendByteOrder
} {
	if f.little {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

func structUnpack(L *lua.LState) int {
	nargs := L.GetTop()
	f := newStructFormat(L, "unpack")
	data := structCheckString(L, "unpack", 2)
	pos := uint64(1)
	if L.Get(3) != lua.LNil {
		pos = uint64(cToInt64(float64(structCheckNumber(L, "unpack", 3))))
	}
	if pos == 0 {
		structArgError(L, "unpack", 3, "offset must be 1 or greater")
	}
	pos--
	ld := uint64(len(data))
	var results []lua.LValue
	for f.more() {
		opt, size := f.next()
		pos += f.padding(pos, opt, size)
		if size > ld || pos > ld-size {
			structArgError(L, "unpack", 2, "data string too short")
		}
		if nargs+len(results)+2 > luaMaxCStack {
			L.RaiseError("stack overflow (too many results)")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			results = append(results, structInteger(data[pos:pos+size], f.little, opt >= 'a'))
		case 'x':
		case 'f':
			results = append(results, lua.LNumber(math.Float32frombits(f.order().Uint32([]byte(data[pos:pos+4])))))
		case 'd':
			results = append(results, lua.LNumber(math.Float64frombits(f.order().Uint64([]byte(data[pos:pos+8])))))
		case 'c':
			if size == 0 {
				var prev lua.LNumber
				ok := len(results) > 0
				if ok {
					prev, ok = luaToNumber(results[len(results)-1])
				}
				if !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = cToUint64(float64(prev))
				results = results[:len(results)-1]
				if size > ld || pos > ld-size {
					structArgError(L, "unpack", 2, "data string too short")
				}
			}
			results = append(results, lua.LString(data[pos:pos+size]))
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.RaiseError("unfinished string in data")
			}
			size = uint64(end) + 1
			results = append(results, lua.LString(data[pos:pos+uint64(end)]))
		default:
			f.control(opt)
		}
		pos += size
	}
	for _, v := range results {
		L.Push(v)
	}
	L.Push(lua.LNumber(pos + 1))
	return len(results) + 1
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L, "size")
	var pos uint64
	for f.more() {
		opt, size := f.next()
		pos += f.padding(pos, opt, size)
		switch {
		case opt == 's':
			structArgError(L, "size", 1, "option 's' has no fixed size")
		case opt == 'c' && size == 0:
			structArgError(L, "size", 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// structInteger reads an integer of len(b) bytes as the C library does,
// in 64 bits: of a wider one only the low 8 bytes count, and the sign
// mask is shifted as x86-64 shifts, by the count modulo 64.
func structInteger(b string, little, signed bool) lua.LNumber {
	var l uint64
	for i := range len(b) {
		j := i
		if little {
			j = len(b) - 1 - i
		}
		l = l<<8 | uint64(b[j])
	}
	if !signed {
		return lua.LNumber(float64(l))
	}
	mask := ^uint64(0) << (uint(len(b)*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return lua.LNumber(float64(int64(l)))
}

// cToInt64 converts as x86-64's cvttsd2si does: toward zero, and
// 0x8000000000000000 for NaN and anything out of range.
func cToInt64(n float64) int64 {
	if math.IsNaN(n) || n >= 1<<63 || n < -(1<<63) {
		return math.MinInt64
	}
	return int64(n)
}

// cToUint64 is the C library's conversion of a Lua number to an unsigned
// long as GCC compiles it for x86-64: a negative number through a signed
// conversion, one at or past 2^63 shifted down by 2^63 first.
func cToUint64(n float64) uint64 {
	if n < 0 || !(n >= 1<<63) {
		return uint64(cToInt64(n))
	}
	return uint64(cToInt64(n-(1<<63))) ^ 1<<63
}

// luaToNumber is lua_tonumber: a number, or a string that reads as one.
func luaToNumber(v lua.LValue) (lua.LNumber, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return v, true
	case lua.LString:
		n, ok := strtod(string(v))
		return lua.LNumber(n), ok
	}
	return 0, false
}

// structCheckNumber is luaL_checknumber with Lua 5.1's error text.
func structCheckNumber(L *lua.LState, fname string, n int) lua.LNumber {
	if v, ok := luaToNumber(L.Get(n)); ok {
		return v
	}
	structArgError(L, fname, n, "number expected, got "+luaTypeName(L, fname, n))
	return 0
}

// structCheckString is luaL_checklstring: a string, or a number as Lua
// writes it.
func structCheckString(L *lua.LState, fname string, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	structArgError(L, fname, n, "string expected, got "+luaTypeName(L, fname, n))
	return ""
}

// luaTypeName is luaL_typename as the library sees argument n: "no
// value" past the last argument, but pack finds a nil there, the mark it
// pushes once it has its format.
func luaTypeName(L *lua.LState, fname string, n int) string {
	if n > L.GetTop() {
		if fname == "pack" && n > 1 {
			return "nil"
		}
		return "no value"
	}
	return L.Get(n).Type().String()
}

func structArgError(L *lua.LState, fname string, n int, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}
