package replica

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// noID is Redis's all-zero replication ID.
const noID = "0000000000000000000000000000000000000000"

// IDs is a node's replication history: the ID of the history its data
// follows, and the previous ID with the first index that is not valid
// under it (after a promotion or a master switch). A persistent node keeps
// them in a file beside its data so it can resume partially after a
// restart.
type IDs struct {
	mu     sync.Mutex // guards the fields below
	id     string
	id2    string
	second uint64 // first index not valid under id2 (Redis's second_repl_offset, 0 = none)
	path   string // "" for an in-memory node
	// running is true from MarkRunning to MarkStopped: found true at
	// start, the last run ended without a clean stop.
	running bool
	loaded  bool // the file existed at LoadIDs
}

type idsFile struct {
	ID      string `json:"replid"`
	ID2     string `json:"replid2"`
	Second  uint64 `json:"second_offset"`
	Running bool   `json:"running"`
}

// LoadIDs reads the IDs kept in dir, or starts a new history when there
// are none (or dir is "": a node without persistence).
func LoadIDs(dir string) (*IDs, error) {
	ids := &IDs{id: NewID(), id2: noID}
	if dir == "" {
		return ids, nil
	}
	ids.path = filepath.Join(dir, "replication.json")
	b, err := os.ReadFile(ids.path)
	if os.IsNotExist(err) {
		return ids, ids.saveLocked()
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ids.path, err)
	}
	var f idsFile
	if err := json.Unmarshal(b, &f); err != nil || len(f.ID) != 40 {
		return nil, fmt.Errorf("%s is not a replication state file", ids.path)
	}
	ids.id, ids.id2, ids.second, ids.running, ids.loaded = f.ID, f.ID2, f.Second, f.Running, true
	if ids.id2 == "" {
		ids.id2 = noID
	}
	return ids, nil
}

// NewID returns a random 40-hex-digit replication ID.
func NewID() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Get returns the current ID, the previous ID and the switch index.
func (ids *IDs) Get() (id, id2 string, second uint64) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	return ids.id, ids.id2, ids.second
}

// Adopt takes a master's history after a full sync: a new ID, no previous one.
func (ids *IDs) Adopt(id string) error {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.id, ids.id2, ids.second = id, noID, 0
	return ids.saveLocked()
}

// Switch starts a new history at index next (promotion: a new ID; or a
// master that changed its ID under a continuing replica): the current ID
// becomes the previous one, valid below next.
func (ids *IDs) Switch(newID string, next uint64) error {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.id2, ids.second, ids.id = ids.id, next, newID
	return ids.saveLocked()
}

// StartMaster is called when a persistent node starts as a master with
// its log ending at last. If its previous run did not stop cleanly, the
// log may have lost entries a replica already has (an unflushed tail), so
// it starts a new history that keeps the old ID valid only up to last
// (a replica ahead of that resyncs fully), as Redis changes its replid
// after an unclean restart. It reports whether it switched.
func (ids *IDs) StartMaster(last uint64) (bool, error) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	unclean := ids.loaded && ids.running
	if unclean {
		ids.id2, ids.second, ids.id = ids.id, last+1, NewID()
	}
	ids.running = true
	return unclean, ids.saveLocked()
}

// Running records that this node now serves as a master (after a
// promotion), so an unclean stop is noticed at the next start.
func (ids *IDs) Running() error {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.running = true
	return ids.saveLocked()
}

// Stopped records a clean stop.
func (ids *IDs) Stopped() error {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.running = false
	return ids.saveLocked()
}

// Forget drops the persisted IDs before the data is replaced, so a crash
// mid-install cannot resume a history the data no longer follows.
func (ids *IDs) Forget() error {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.id, ids.id2, ids.second = NewID(), noID, 0
	if ids.path == "" {
		return nil
	}
	if err := os.Remove(ids.path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// saveLocked writes the file atomically (temp, fsync, rename).
func (ids *IDs) saveLocked() error {
	if ids.path == "" {
		return nil
	}
	b, _ := json.Marshal(idsFile{ID: ids.id, ID2: ids.id2, Second: ids.second, Running: ids.running})
	tmp := ids.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, ids.path)
}
