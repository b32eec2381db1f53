package engine

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// An RDB file, as Redis writes one (SAVE, BGSAVE, its dump.rdb): "REDIS"
// and a 4-digit version, then opcodes (auxiliary fields, database
// selection, sizes, expiry and eviction hints, function libraries) and
// keys, each a type, a name and a value in DUMP's encodings, then an end
// opcode and a CRC-64 of everything before it. ReadRDB reads one so
// that a Redis user can start walrus on the dump.rdb of a Redis.

// RDB opcodes (Redis's rdb.h).
const (
	rdbOpSlotInfo     = 244
	rdbOpModuleAux    = 247
	rdbOpIdle         = 248
	rdbOpFreq         = 249
	rdbOpAux          = 250
	rdbOpResizeDB     = 251
	rdbOpExpireTimeMS = 252
	rdbOpExpireTime   = 253
	rdbOpSelectDB     = 254
	rdbOpEOF          = 255
)

// RDBItem is one key of an RDB file, or one function library.
type RDBItem struct {
	DB       int
	Key      []byte
	Payload  []byte // the value as a DUMP payload: RESTORE's argument
	ExpireAt int64  // Unix ms; 0 for none
	Library  []byte // a function library's code (Key is nil)
}

// ReadRDB calls fn for every key and library of an RDB file, in order,
// once the file's CRC-64 (when it has one) is found right. A key of a
// type walrus cannot hold (a module's) stops it with an error naming the
// key: nothing is skipped silently.
func ReadRDB(data []byte, fn func(RDBItem) error) (err error) {
	if len(data) < 9 || string(data[:5]) != "REDIS" {
		return fmt.Errorf("not an RDB file")
	}
	version, verr := strconv.Atoi(string(data[5:9]))
	if verr != nil || version < 1 || version > rdbMaxVersion {
		return fmt.Errorf("RDB version %q is not one walrus reads (1 to %d)", data[5:9], rdbMaxVersion)
	}
	r := &rdbReader{b: data[9:]}
	at := func() int { return len(data) - len(r.b) }
	var key []byte
	defer func() {
		if e := recover(); e != nil {
			if e != errBadDump {
				panic(e)
			}
			err = fmt.Errorf("RDB file is malformed at byte %d (key %q)", at(), key)
		}
	}()
	db := 0
	var expireAt int64
	for {
		op := r.byte()
		switch op {
		case rdbOpEOF:
			end := at()
			if version >= 5 {
				sum := binary.LittleEndian.Uint64(r.take(8))
				if sum != 0 && sum != redisCRC64(0, data[:end]) {
					return fmt.Errorf("RDB file's checksum is wrong")
				}
			}
			return nil
		case rdbOpSelectDB:
			n, enc := r.length()
			if enc || n > 1<<16 {
				bad()
			}
			db = int(n)
		case rdbOpResizeDB:
			r.length()
			r.length()
		case rdbOpAux:
			r.string()
			r.string()
		case rdbOpExpireTimeMS:
			expireAt = int64(binary.LittleEndian.Uint64(r.take(8)))
		case rdbOpExpireTime:
			expireAt = int64(binary.LittleEndian.Uint32(r.take(4))) * 1000
		case rdbOpIdle:
			r.length()
		case rdbOpFreq:
			r.byte()
		case rdbOpSlotInfo:
			r.length()
			r.length()
			r.length()
		case rdbOpFunction2:
			if err := fn(RDBItem{Library: r.string()}); err != nil {
				return err
			}
		case rdbOpFunctionPreGA:
			return fmt.Errorf("RDB file holds functions in the format of Redis 7.0's release candidates")
		case rdbOpModuleAux:
			return fmt.Errorf("RDB file holds a module's data, which walrus cannot read")
		default:
			key = r.string()
			start := at()
			switch op {
			case rdbZSet, rdbZSet2, rdbHash, rdbList, rdbSet, rdbString,
				rdbHashZipmap, rdbListZiplist, rdbSetIntset, rdbZSetZiplist, rdbHashZiplist,
				rdbListQuicklist, rdbHashListpack, rdbZSetListpack, rdbListQuicklist2, rdbSetListpack,
				rdbStreamListpacks, rdbStreamListpacks2, rdbStreamListpacks3:
			default:
				return fmt.Errorf("RDB key %q has a value of RDB type %d, which walrus cannot restore (a module's, or a hash's with field expiry)", key, op)
			}
			r.object(op)
			body := append([]byte{op}, data[start:at()]...)
			if err := fn(RDBItem{DB: db, Key: key, Payload: sealDump(body), ExpireAt: expireAt}); err != nil {
				return err
			}
			key, expireAt = nil, 0
		}
	}
}

// RDBOptions shapes the RDB file WriteRDB writes. The zero value writes
// the whole dataset.
type RDBOptions struct {
	// NoFunctions and NoKeys leave parts of the dataset out, as a
	// client's REPLCONF rdb-filter-only does in Redis (redis-cli
	// --functions-rdb asks for the function libraries alone).
	NoFunctions bool
	NoKeys      bool
	// Begin, when set, is called before anything is written with the log
	// index the file holds everything up to (its snapshot's applied
	// index): where a replica fed this file goes on from.
	Begin func(index uint64) error
}

// WriteRDB writes the dataset as of one Pebble snapshot as a Redis RDB
// file (version 10, Redis 7.0's): the auxiliary fields given, the
// function libraries, then each database's keys with their expiry, in
// the encodings DUMP writes, and the CRC-64. Keys already expired are
// left out, and so is what opts leaves out.
func (e *Engine) WriteRDB(w io.Writer, aux [][2]string, opts RDBOptions) (err error) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	snap := e.db.NewSnapshot()
	defer snap.Close()
	c := &ctx{e: e, r: snap, now: e.opts.Now().UnixMilli(), noStats: true}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(storageError)
			if !ok {
				panic(r)
			}
			err = se.err
		}
	}()
	if opts.Begin != nil {
		index, err := appliedIndexIn(snap)
		if err != nil {
			return err
		}
		if err := opts.Begin(index); err != nil {
			return err
		}
	}
	out := newRDBWriter(w)
	out.write([]byte("REDIS" + fmt.Sprintf("%04d", rdbVersion)))
	for _, kv := range aux {
		out.write(appendRDBString(appendRDBString([]byte{rdbOpAux}, []byte(kv[0])), []byte(kv[1])))
	}
	if !opts.NoFunctions {
		it := c.iter(keyFunctionPrefix, prefixEnd(keyFunctionPrefix))
		for it.First(); it.Valid(); it.Next() {
			out.write(appendRDBString([]byte{rdbOpFunction2}, it.Value()))
		}
		it.Close()
	}
	for db := 0; db < e.opts.Databases && !opts.NoKeys && out.err == nil; db++ {
		c.selectDB(db)
		selected := false
		c.scanKeys(0, func(key []byte, _ uint64, m *meta) bool {
			body, ok := c.dumpBody(m) // the type, then the value
			if !ok {
				out.err = fmt.Errorf("key %q in database %d is a %s, which walrus does not write to an RDB file", key, db, typeName(m.typ))
				return false
			}
			if !selected {
				out.write(appendRDBLen([]byte{rdbOpSelectDB}, uint64(db)))
				selected = true
			}
			if m.expireAt != 0 {
				out.write(binary.LittleEndian.AppendUint64([]byte{rdbOpExpireTimeMS}, uint64(m.expireAt)))
			}
			out.write(appendRDBString(body[:1:1], key))
			out.write(body[1:])
			return out.err == nil
		})
	}
	out.write([]byte{rdbOpEOF})
	if out.err == nil {
		out.err = out.w.Flush() // everything through the CRC
	}
	out.write(binary.LittleEndian.AppendUint64(nil, out.sum.crc))
	if out.err != nil {
		return out.err
	}
	return out.w.Flush()
}

// rdbWriter writes an RDB file, keeping its CRC-64 and its first error.
type rdbWriter struct {
	w   *bufio.Writer // over sum
	sum *crcWriter
	err error
}

func newRDBWriter(w io.Writer) *rdbWriter {
	sum := &crcWriter{w: w}
	return &rdbWriter{w: bufio.NewWriterSize(sum, 64<<10), sum: sum}
}

func (r *rdbWriter) write(b []byte) {
	if r.err != nil {
		return
	}
	_, r.err = r.w.Write(b)
}

// crcWriter keeps Redis's CRC-64 of what passes, which a bufio.Writer
// hands it in blocks long enough to be summed 8 bytes at a time.
type crcWriter struct {
	w   io.Writer
	crc uint64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	c.crc = redisCRC64(c.crc, p)
	return c.w.Write(p)
}
