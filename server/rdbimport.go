package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/engine"
)

// A Redis user moves to walrus by starting it on their Redis's dump.rdb:
// a master whose dataset is empty (a first start, or every start with
// persistence off) and that finds an RDB file at dir/dbfilename loads it,
// as Redis would, before it accepts clients. Every key goes in as a
// RESTORE through the engine, so it is logged and reaches the replicas;
// keys already expired are left out, as Redis leaves them out on a
// master. A file walrus cannot read in full stops the start with an
// error: nothing is skipped silently.

// saveRDB writes the dataset to dir/dbfilename as a Redis RDB file, as
// SAVE and BGSAVE do in Redis: through a temporary file, synced, renamed
// over the old one. Redis's backup habits (copy dump.rdb after BGSAVE)
// and Redis itself can use it; walrus loads it at start only into an
// empty dataset.
func (s *Server) saveRDB() error {
	if s.cfg.DBFilename == "" {
		return nil
	}
	path := filepath.Join(s.cfg.Dir, s.cfg.DBFilename)
	tmp := filepath.Join(s.cfg.Dir, fmt.Sprintf("temp-%d.rdb", os.Getpid()))
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = s.eng.WriteRDB(f, rdbAux(), engine.RDBOptions{})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(s.cfg.Dir); err == nil { // the rename, durable
		d.Sync()
		d.Close()
	}
	return nil
}

// rdbAux is the auxiliary fields walrus writes at the head of an RDB
// file, as Redis names them.
func rdbAux() [][2]string {
	return [][2]string{{"redis-ver", Version}, {"redis-bits", "64"}, {"ctime", strconv.FormatInt(time.Now().Unix(), 10)}}
}

// importBatch is how many keys go to the engine in one request.
const importBatch = 512

// importRDB loads dir/dbfilename when it is an RDB file and the dataset is
// empty; it returns how many keys it loaded.
func (s *Server) importRDB() (int, error) {
	if s.cfg.DBFilename == "" || s.eng.AppliedIndex() != 0 {
		return 0, nil
	}
	if _, _, replica := s.cfg.ReplicaOf(); replica {
		return 0, nil // a replica's dataset is its master's
	}
	path := filepath.Join(s.cfg.Dir, s.cfg.DBFilename)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(data) < 5 || string(data[:5]) != "REDIS" {
		return 0, nil // not Redis's: nothing walrus wrote goes by that name
	}
	start := time.Now()
	sess := engine.NewSession()
	now := time.Now().UnixMilli()
	var batch [][][]byte
	var names [][]byte // each command's key, for errors
	keys, expired, db := 0, 0, -1
	run := func() error {
		if len(batch) == 0 {
			return nil
		}
		out := s.eng.Exec(sess, batch, nil)
		for i := 0; len(out) > 0; i++ {
			n, reply := redcon.ReadNextRESP(out)
			if n == 0 {
				break
			}
			if reply.Type == redcon.Error {
				return fmt.Errorf("restore %q: %s", names[i], reply.Data)
			}
			out = out[n:]
		}
		batch, names = batch[:0], names[:0]
		return nil
	}
	err = engine.ReadRDB(data, func(it engine.RDBItem) error {
		if it.Library != nil {
			batch = append(batch, [][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte("REPLACE"), it.Library})
			names = append(names, []byte("function library"))
		} else {
			if it.ExpireAt != 0 && it.ExpireAt <= now {
				expired++
				return nil
			}
			if it.DB >= s.cfg.Databases {
				return fmt.Errorf("key %q is in database %d; walrus has %d (databases)", it.Key, it.DB, s.cfg.Databases)
			}
			if it.DB != db {
				db = it.DB
				batch = append(batch, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))})
				names = append(names, []byte("SELECT"))
			}
			batch = append(batch, [][]byte{[]byte("RESTORE"), it.Key, strconv.AppendInt(nil, it.ExpireAt, 10), it.Payload, []byte("REPLACE"), []byte("ABSTTL")})
			names = append(names, it.Key)
			keys++
		}
		if len(batch) >= importBatch {
			return run()
		}
		return nil
	})
	if err == nil {
		err = run()
	}
	if err != nil {
		return keys, fmt.Errorf("load %s: %w", path, err)
	}
	s.rdbLoaded.keys.Store(int64(keys))
	s.rdbLoaded.expired.Store(int64(expired))
	s.log.Info("loaded the RDB file", "file", path, "keys", keys, "expired_skipped", expired,
		"bytes", len(data), "seconds", time.Since(start).Seconds(), "applied_index", s.eng.AppliedIndex())
	return keys, nil
}
