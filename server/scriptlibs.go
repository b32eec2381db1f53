package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The libraries Redis gives scripts beyond Lua's own: cjson, cmsgpack,
// bit and struct, as Redis bundles them (lua-cjson 2.1, lua-cmsgpack 0.4,
// LuaBitOp 1.0 and struct 0.2, the last in scriptstruct.go).

// openScriptLibs adds cjson, cmsgpack, bit and struct to the globals of L.
func openScriptLibs(L *lua.LState, globals *lua.LTable) {
	null := L.NewUserData() // cjson.null: JSON's null, a value that is not nil
	cjson := L.NewTable()
	cjson.RawSetString("null", null)
	cjson.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var b []byte
		b, err := appendJSON(b, L.Get(1), null, 0)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(b))
		return 1
	}))
	cjson.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		v, err := decodeJSON(L, L.CheckString(1), null)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(v)
		return 1
	}))
	globals.RawSetString("cjson", cjson)

	bit := L.NewTable()
	unary := func(name string, f func(int32) int32) {
		bit.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LNumber(f(toBit(L.CheckNumber(1)))))
			return 1
		}))
	}
	fold := func(name string, f func(a, b int32) int32) {
		bit.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			acc := toBit(L.CheckNumber(1))
			for i := 2; i <= L.GetTop(); i++ {
				acc = f(acc, toBit(L.CheckNumber(i)))
			}
			L.Push(lua.LNumber(acc))
			return 1
		}))
	}
	shift := func(name string, f func(x uint32, n uint) uint32) {
		bit.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			x, n := toBit(L.CheckNumber(1)), toBit(L.CheckNumber(2))
			L.Push(lua.LNumber(int32(f(uint32(x), uint(n)&31))))
			return 1
		}))
	}
	unary("tobit", func(x int32) int32 { return x })
	unary("bnot", func(x int32) int32 { return ^x })
	unary("bswap", func(x int32) int32 {
		u := uint32(x)
		return int32(u>>24 | u>>8&0xff00 | u<<8&0xff0000 | u<<24)
	})
	fold("band", func(a, b int32) int32 { return a & b })
	fold("bor", func(a, b int32) int32 { return a | b })
	fold("bxor", func(a, b int32) int32 { return a ^ b })
	shift("lshift", func(x uint32, n uint) uint32 { return x << n })
	shift("rshift", func(x uint32, n uint) uint32 { return x >> n })
	shift("arshift", func(x uint32, n uint) uint32 { return uint32(int32(x) >> n) })
	shift("rol", func(x uint32, n uint) uint32 { return x<<n | x>>(32-n) })
	shift("ror", func(x uint32, n uint) uint32 { return x>>n | x<<(32-n) })
	bit.RawSetString("tohex", L.NewFunction(func(L *lua.LState) int {
		x, n := uint32(toBit(L.CheckNumber(1))), 8
		if L.GetTop() >= 2 {
			n = int(toBit(L.CheckNumber(2)))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n, digits = -n, "0123456789ABCDEF"
		}
		n = min(n, 8)
		out := make([]byte, n)
		for i := n - 1; i >= 0; i-- {
			out[i] = digits[x&15]
			x >>= 4
		}
		L.Push(lua.LString(out))
		return 1
	}))
	globals.RawSetString("bit", bit)
	openMsgpack(L, globals)
	openStruct(L, globals)
}

// toBit is LuaBitOp's conversion of a number to 32 bits: rounded to the
// nearest integer (half to even), then taken modulo 2^32.
func toBit(n lua.LNumber) int32 {
	f := math.RoundToEven(float64(n))
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return int32(uint32(int64(math.Mod(f, 1<<32))))
}

// maxJSONDepth is lua-cjson's default nesting limit, both ways.
const maxJSONDepth = 1000

// appendJSON encodes v as lua-cjson does by default: numbers with 14
// significant digits, '/' escaped, a table with only positive integer
// keys as an array (holes as null, unless it is excessively sparse), any
// other as an object.
func appendJSON(b []byte, v lua.LValue, null *lua.LUserData, depth int) ([]byte, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return append(b, "null"...), nil
	case lua.LBool:
		return strconv.AppendBool(b, bool(v)), nil
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("Cannot serialise number: must not be NaN or Inf")
		}
		return strconv.AppendFloat(b, f, 'g', 14, 64), nil
	case lua.LString:
		return appendJSONString(b, string(v)), nil
	case *lua.LUserData:
		if v == null {
			return append(b, "null"...), nil
		}
	case *lua.LTable:
		if depth >= maxJSONDepth {
			return nil, fmt.Errorf("Cannot serialise, excessive nesting (%d)", depth+1)
		}
		return appendJSONTable(b, v, null, depth+1)
	}
	return nil, fmt.Errorf("Cannot serialise %s: type not supported", v.Type())
}

func appendJSONTable(b []byte, t *lua.LTable, null *lua.LUserData, depth int) ([]byte, error) {
	// An array: every key a positive integer, not too sparse.
	items, maxKey, isArray := 0, 0, true
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		items++
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) != math.Floor(float64(n)) || n < 1 {
			isArray = false
			continue
		}
		maxKey = max(maxKey, int(n))
	}
	if items > 0 && isArray {
		if maxKey > 10 && maxKey > 2*items {
			return nil, errors.New("Cannot serialise table: excessively sparse array")
		}
		b = append(b, '[')
		for i := 1; i <= maxKey; i++ {
			if i > 1 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, t.RawGetInt(i), null, depth); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	b = append(b, '{')
	first := true
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !first {
			b = append(b, ',')
		}
		first = false
		switch k := k.(type) {
		case lua.LString:
			b = appendJSONString(b, string(k))
		case lua.LNumber:
			b = appendJSONString(b, strconv.FormatFloat(float64(k), 'g', 14, 64))
		default:
			return nil, fmt.Errorf("Cannot serialise %s: table key must be a number or string", k.Type())
		}
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, v, null, depth); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString quotes s as lua-cjson does: '"', '\\' and '/'
// escaped, control characters and DEL as \uXXXX (or their short forms),
// other bytes as they are.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '/':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 || c == 0x7f {
				b = fmt.Appendf(b, `\u%04x`, c)
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// decodeJSON decodes one JSON text to Lua: objects and arrays to tables,
// null to cjson.null.
func decodeJSON(L *lua.LState, s string, null *lua.LUserData) (lua.LValue, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := decodeJSONValue(L, d, null, 0)
	if err != nil {
		return nil, jsonError(d, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("Expected the end but found invalid token at character %d", d.InputOffset()+1)
	}
	return v, nil
}

func jsonError(d *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("Expected value but found T_END at character %d", d.InputOffset()+1)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("Expected value but found invalid token at character %d", syn.Offset)
	}
	return err
}

func decodeJSONValue(L *lua.LState, d *json.Decoder, null *lua.LUserData, depth int) (lua.LValue, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case nil:
		return null, nil
	case bool:
		return lua.LBool(tok), nil
	case string:
		return lua.LString(tok), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return lua.LNumber(f), nil
	case json.Delim:
		if depth >= maxJSONDepth {
			return nil, fmt.Errorf("Found too many nested data structures (%d) at character %d", depth+1, d.InputOffset())
		}
		t := L.NewTable()
		if tok == '[' {
			for d.More() {
				v, err := decodeJSONValue(L, d, null, depth+1)
				if err != nil {
					return nil, err
				}
				t.Append(v)
			}
		} else {
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeJSONValue(L, d, null, depth+1)
				if err != nil {
					return nil, err
				}
				t.RawSetString(k.(string), v)
			}
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return t, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// openMsgpack adds cmsgpack, lua-cmsgpack 0.4 as Redis bundles it:
// integers in their smallest form, other numbers as float32 when that is
// exact, strings as str, tables with keys 1..n as arrays and any other
// as maps, nesting past 16 levels as nil.
func openMsgpack(L *lua.LState, globals *lua.LTable) {
	mp := L.NewTable()
	mp.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.ArgError(0, "MessagePack pack needs input.")
		}
		var b []byte
		for i := 1; i <= n; i++ {
			b = appendMsgpack(b, L.Get(i), 0)
		}
		L.Push(lua.LString(b))
		return 1
	}))
	mp.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		_, vals := unpackMsgpack(L, L.CheckString(1), 0, -1)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	}))
	mp.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		next, vals := unpackMsgpack(L, L.CheckString(1), L.OptInt(2, 0), 1)
		L.Push(lua.LNumber(next))
		for _, v := range vals {
			L.Push(v)
		}
		return 1 + len(vals)
	}))
	mp.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		next, vals := unpackMsgpack(L, L.CheckString(1), L.OptInt(3, 0), L.CheckInt(2))
		L.Push(lua.LNumber(next))
		for _, v := range vals {
			L.Push(v)
		}
		return 1 + len(vals)
	}))
	globals.RawSetString("cmsgpack", mp)
}

// maxMsgpackNesting is lua-cmsgpack's: deeper tables pack as nil.
const maxMsgpackNesting = 16

func appendMsgpack(b []byte, v lua.LValue, level int) []byte {
	switch v := v.(type) {
	case lua.LBool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if !math.IsInf(f, 0) && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return appendMsgpackInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(f32))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
	case lua.LString:
		n := len(v)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(b, v...)
	case *lua.LTable:
		if level >= maxMsgpackNesting {
			return append(b, 0xc0)
		}
		count, maxKey, array := 0, 0, true
		for k, _ := v.Next(lua.LNil); k != lua.LNil; k, _ = v.Next(k) {
			count++
			n, ok := k.(lua.LNumber)
			if !ok || float64(n) != math.Trunc(float64(n)) || n < 1 {
				array = false
				continue
			}
			maxKey = max(maxKey, int(n))
		}
		if array && maxKey == count {
			b = appendMsgpackLen(b, count, 0x90, 0xdc, 0xdd)
			for i := 1; i <= count; i++ {
				b = appendMsgpack(b, v.RawGetInt(i), level+1)
			}
			return b
		}
		b = appendMsgpackLen(b, count, 0x80, 0xde, 0xdf)
		for k, val := v.Next(lua.LNil); k != lua.LNil; k, val = v.Next(k) {
			b = appendMsgpack(b, k, level+1)
			b = appendMsgpack(b, val, level+1)
		}
		return b
	}
	return append(b, 0xc0) // nil, and what MessagePack cannot hold
}

func appendMsgpackLen(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func appendMsgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
		case n <= 0xffffffff:
			return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(n))
	case n >= -128:
		return append(b, 0xd0, byte(n))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// unpackMsgpack decodes up to limit objects (all for a negative limit)
// from s at offset; next is the offset after them, or -1 at the end.
func unpackMsgpack(L *lua.LState, s string, offset, limit int) (next int, vals []lua.LValue) {
	if offset < 0 || offset > len(s) {
		L.ArgError(2, "Start offset greater than input length")
	}
	d := msgpackDecoder{L: L, s: s, pos: offset}
	for d.pos < len(s) && (limit < 0 || len(vals) < limit) {
		vals = append(vals, d.decode(0))
	}
	if d.pos >= len(s) {
		return -1, vals
	}
	return d.pos, vals
}

type msgpackDecoder struct {
	L   *lua.LState
	s   string
	pos int
}

func (d *msgpackDecoder) take(n int) string {
	if n < 0 || len(d.s)-d.pos < n {
		d.L.RaiseError("Missing bytes in input.")
	}
	b := d.s[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *msgpackDecoder) uint(n int) uint64 {
	var u uint64
	for _, c := range []byte(d.take(n)) {
		u = u<<8 | uint64(c)
	}
	return u
}

func (d *msgpackDecoder) decode(depth int) lua.LValue {
	if depth > maxJSONDepth {
		d.L.RaiseError("Bad data format in input.")
	}
	c := d.take(1)[0]
	switch {
	case c <= 0x7f:
		return lua.LNumber(c)
	case c >= 0xe0:
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0:
		return lua.LString(d.take(int(c & 0x1f)))
	case c&0xf0 == 0x90:
		return d.array(int(c&0x0f), depth)
	case c&0xf0 == 0x80:
		return d.dict(int(c&0x0f), depth)
	}
	switch c {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(d.uint(4))))
	case 0xcb:
		return lua.LNumber(math.Float64frombits(d.uint(8)))
	case 0xcc, 0xcd, 0xce, 0xcf:
		return lua.LNumber(d.uint(1 << (c - 0xcc)))
	case 0xd0:
		return lua.LNumber(int8(d.uint(1)))
	case 0xd1:
		return lua.LNumber(int16(d.uint(2)))
	case 0xd2:
		return lua.LNumber(int32(d.uint(4)))
	case 0xd3:
		return lua.LNumber(int64(d.uint(8)))
	case 0xd9, 0xda, 0xdb:
		return lua.LString(d.take(int(d.uint(1 << (c - 0xd9)))))
	case 0xdc, 0xdd:
		return d.array(int(d.uint(2<<(c-0xdc))), depth)
	case 0xde, 0xdf:
		return d.dict(int(d.uint(2<<(c-0xde))), depth)
	}
	d.L.RaiseError("Bad data format in input.")
	return lua.LNil
}

func (d *msgpackDecoder) array(n, depth int) lua.LValue {
	if n > len(d.s)-d.pos { // each element takes a byte at least
		d.L.RaiseError("Missing bytes in input.")
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, d.decode(depth+1))
	}
	return t
}

func (d *msgpackDecoder) dict(n, depth int) lua.LValue {
	if n > len(d.s)-d.pos {
		d.L.RaiseError("Missing bytes in input.")
	}
	t := d.L.NewTable()
	for range n {
		k := d.decode(depth + 1)
		v := d.decode(depth + 1)
		if k != lua.LNil {
			t.RawSet(k, v)
		}
	}
	return t
}
