package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The libraries Redis gives scripts beyond Lua's own: cjson and bit, as
// Redis bundles them (lua-cjson 2.1 and LuaBitOp 1.0). cmsgpack and struct
// are not here.

// openScriptLibs adds cjson and bit to the globals of L.
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
