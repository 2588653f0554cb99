package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"

	"github.com/hashicorp/raft"
)

// chainRing is how many recent checkpoints a node keeps for its peers to
// compare against.
const chainRing = 4096

// chain is a running hash of every entry this node's FSM applied: after
// entry i, hash_i = SHA-256(hash_{i-1} || index || term || type || data).
// Raft promises every node applies the same entries in the same order, so
// two nodes at the same index must hold the same hash; a difference means
// their logs diverged. The hash travels in snapshots, so a node that
// restores one continues the same chain.
//
// Apply (one goroutine) extends it; the API reads checkpoints
// concurrently, hence the mutex.
type chain struct {
	mu    sync.Mutex
	last  [sha256.Size]byte
	index uint64
	known bool // false after a snapshot that carried no hash
	ring  [chainRing]checkpoint
	n     int // checkpoints written to ring
}

type checkpoint struct {
	index uint64
	hash  [sha256.Size]byte
}

func newChain() *chain { return &chain{known: true} }

// add extends the chain with one applied entry.
func (c *chain) add(l *raft.Log) {
	var hdr [17]byte
	binary.BigEndian.PutUint64(hdr[0:8], l.Index)
	binary.BigEndian.PutUint64(hdr[8:16], l.Term)
	hdr[16] = byte(l.Type)
	h := sha256.New()
	c.mu.Lock()
	defer c.mu.Unlock()
	h.Write(c.last[:])
	h.Write(hdr[:])
	h.Write(l.Data)
	h.Sum(c.last[:0])
	c.index = l.Index
	c.ring[c.n%chainRing] = checkpoint{index: l.Index, hash: c.last}
	c.n++
}

// reset restarts the chain from a snapshot's hash at index (known false:
// the snapshot carried none).
func (c *chain) reset(index uint64, hash []byte, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = [sha256.Size]byte{}
	copy(c.last[:], hash)
	c.index, c.known, c.n = index, known && len(hash) == sha256.Size, 0
	if c.known {
		c.ring[0] = checkpoint{index: index, hash: c.last}
		c.n = 1
	}
}

// head is the latest checkpoint (and whether the chain is known).
func (c *chain) head() (index uint64, hash [sha256.Size]byte, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index, c.last, c.known
}

// at returns the hash after applying index, if this node still holds it.
func (c *chain) at(index uint64) ([sha256.Size]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return [sha256.Size]byte{}, false
	}
	for i := 0; i < min(c.n, chainRing); i++ {
		cp := c.ring[(c.n-1-i)%chainRing]
		if cp.index == index {
			return cp.hash, true
		}
		if cp.index < index {
			break
		}
	}
	return [sha256.Size]byte{}, false
}

func hexHash(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }
