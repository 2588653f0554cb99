package cluster

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"runtime/debug"
	"time"

	"github.com/hashicorp/raft"
	"go.etcd.io/bbolt"
)

// checkBoltFile reads every bucket, key and value of the bolt file before
// the stores open it: a damaged page would otherwise surface later as a
// crash inside raft. The walk runs on a goroutine of its own with memory
// faults turned into panics and recovered (bbolt's Tx.Check cannot be
// used: it panics on a goroutine of its own on some damage), and it is
// bounded: a damaged page can make a cursor loop, so more items than the
// file could hold, or a walk longer than checkTimeout, is corruption. A
// missing file is fine: a new node.
func checkBoltFile(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- walkBolt(path, st.Size()/16+64) }()
	select {
	case err := <-done:
		return err
	case <-time.After(checkTimeout):
		return corruptFile(path, "reading it did not finish in "+checkTimeout.String())
	}
}

// checkTimeout bounds the walk of the bolt file at start.
const checkTimeout = 30 * time.Second

func walkBolt(path string, maxItems int64) (err error) {
	debug.SetPanicOnFault(true)
	defer func() {
		if v := recover(); v != nil {
			err = corruptFile(path, fmt.Sprint(v))
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: boltLockTimeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("cluster: open %s: %w (another process holds it)", path, err)
		}
		return corruptFile(path, err.Error())
	}
	defer db.Close()
	var items int64
	var sum uint32 // every byte is read, so that a key or value pointing outside the file faults here
	errTooMany := errors.New("more items than the file can hold")
	return db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			err := b.ForEach(func(k, v []byte) error {
				if items++; items > maxItems {
					return errTooMany
				}
				sum = crc32.Update(crc32.Update(sum, castagnoli, k), castagnoli, v)
				return nil
			})
			if err != nil {
				return corruptFile(path, fmt.Sprintf("bucket %q: %v", name, err))
			}
			return nil
		})
	})
}

func corruptFile(path, why string) error {
	return fmt.Errorf("cluster: %s is corrupt (%s); this node refuses to start: "+
		"move the data directory aside and rejoin the cluster to copy the state from a peer", path, why)
}

// checkLog reads every entry of the log and verifies the checksum of each
// framed bgdns entry, so that a node never starts on a log it would apply
// wrongly. It names the first bad index.
func checkLog(logs raft.LogStore, source string) (err error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return fmt.Errorf("cluster: read %s: %w", source, err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return fmt.Errorf("cluster: read %s: %w", source, err)
	}
	var at uint64
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("cluster: %s is corrupt at index %d (%v); this node refuses to start", source, at, v)
		}
	}()
	if first == 0 && last != 0 {
		first = 1 // a first key damaged to 0: the walk must still see every index
	}
	var l raft.Log
	var prevTerm uint64
	for at = first; at != 0 && at <= last; at++ {
		l = raft.Log{} // a damaged entry may lack a field: never see the previous one's
		if err := logs.GetLog(at, &l); err != nil {
			return fmt.Errorf("cluster: %s: entry %d of %d..%d: %w; this node refuses to start", source, at, first, last, err)
		}
		if why := badEntry(&l, at, prevTerm); why != "" {
			return fmt.Errorf("cluster: %s: entry %d: %s; this node refuses to start: "+
				"move the data directory aside and rejoin the cluster to copy the state from a peer", source, at, why)
		}
		prevTerm = l.Term
	}
	return nil
}

// badEntry says what is wrong with the entry read at index, or "". The
// checksum of a framed entry covers its data only; raft's own fields
// (index, term, type) are checked for what damage would change: an index
// that is not the key, a term lower than the entry before, a command
// entry without data, or another type carrying a command's frame.
func badEntry(l *raft.Log, index, prevTerm uint64) string {
	switch {
	case l.Index != index:
		return fmt.Sprintf("holds index %d", l.Index)
	case l.Term < prevTerm:
		return fmt.Sprintf("term %d is lower than the previous entry's %d", l.Term, prevTerm)
	case l.Type == raft.LogCommand && len(l.Data) == 0:
		return "a command entry without data"
	case l.Type == raft.LogCommand:
		if _, _, err := unframe(l.Data); errors.Is(err, errCorrupt) {
			return err.Error()
		}
	case len(l.Data) > 0 && l.Data[0]&entryFramed != 0:
		if _, _, err := unframe(l.Data); err == nil {
			return fmt.Sprintf("a bgdns entry stored as raft type %v", l.Type)
		}
	}
	return ""
}

// guarded runs f (opening a store, starting raft on it) with memory faults
// turned into panics, and turns a panic into an error naming source: bbolt
// and raft panic on some damaged data while they open it.
func guarded[T any](source string, f func() (T, error)) (v T, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = corruptFile(source, fmt.Sprint(p))
		}
	}()
	return f()
}
