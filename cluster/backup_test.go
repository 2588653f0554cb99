package cluster

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// A backup taken on one node restores onto the whole cluster through the
// log: every node ends with the backup's services, the zone serial moves
// past the restore's index, and every node's chain hash is the same.
func TestBackupRestoreThroughTheLog(t *testing.T) {
	c := newTestCluster(t, 3)
	c.apply(zonePut())
	c.apply(servicePut())
	c.apply(deploy("2.0", "10.0.0.21"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var backup bytes.Buffer
	info, err := c.leader().n.WriteSnapshot(ctx, &backup)
	if err != nil {
		t.Fatal(err)
	}
	if info.Services != 1 || info.Zones != 1 || !info.ChecksumOK || info.HistoryRecords < 2 {
		t.Fatalf("backup info %+v", info)
	}
	// Change the state, then restore the backup.
	c.apply(control.Command{Op: control.OpServiceDelete, Name: testSvc, Time: testTime, Actor: "test"})
	var index uint64
	c.retry("restore", func(n *Node) error {
		var err error
		_, index, err = n.RestoreSnapshot(ctx, backup.Bytes(), "test")
		return err
	})
	for _, tn := range c.nodes {
		eventually(t, 10*time.Second, tn.id+" applied the restore", func() bool { return tn.n.Applied() >= index })
		st := tn.n.State()
		svc := st.Service(testSvc)
		if svc == nil || svc.Green == nil || svc.Green.Version != "2.0" {
			t.Fatalf("%s after the restore: service %+v", tn.id, svc)
		}
		if z := st.Zone(testZone); z == nil || z.Serial != control.SerialFor(index) {
			t.Fatalf("%s: zone %+v, want serial %d", tn.id, z, index)
		}
		if a := st.Audit(1); len(a) != 1 || a[0].Action != control.OpSnapshotRestore || a[0].Actor != "test" || a[0].Index != index {
			t.Fatalf("%s: last audit record %+v, want the restore", tn.id, a)
		}
	}
	// The same entries were hashed everywhere: compare the chains at the
	// restore's index.
	want, ok := c.nodes[0].n.fsm.chain.at(index)
	if !ok {
		t.Fatal("no chain hash at the restore's index")
	}
	for _, tn := range c.nodes[1:] {
		if got, ok := tn.n.fsm.chain.at(index); !ok || got != want {
			t.Errorf("%s: chain at %d differs", tn.id, index)
		}
	}
}

// A corrupted backup is refused before anything is proposed.
func TestRestoreRefusesCorruptBackup(t *testing.T) {
	c := newTestCluster(t, 1)
	c.apply(zonePut())
	c.apply(servicePut())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var backup bytes.Buffer
	if _, err := c.leader().n.WriteSnapshot(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	b := backup.Bytes()
	i := bytes.Index(b, []byte("10.0.0.11"))
	if i < 0 {
		t.Fatal("address not in the backup")
	}
	b[i+7] = '2'
	before := c.leader().n.Applied()
	if _, _, err := c.leader().n.RestoreSnapshot(ctx, b, "test"); err == nil || control.CodeOf(err) != control.CodeInvalid {
		t.Fatalf("corrupt backup: err = %v, want invalid", err)
	}
	if _, err := InspectSnapshot(b); err == nil || !bytes.Contains([]byte(err.Error()), []byte("corrupt")) {
		t.Fatalf("InspectSnapshot: %v", err)
	}
	if got := c.leader().n.Applied(); got != before {
		t.Fatalf("applied moved from %d to %d", before, got)
	}
	if _, err := InspectSnapshot(b[:len(b)/2]); err == nil {
		t.Fatal("a truncated backup passed inspection")
	}
}

// A restore entry carries encoding version 2, which this build reads and
// an older one (reading up to version 1) refuses as newer, instead of
// skipping it as an unknown kind; a version above what this build reads
// is refused here too.
func TestRestoreEntryVersion(t *testing.T) {
	data, err := encodeRestoreEntry(time.Unix(1, 0), "admin", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if data[1] != entryVersionRestore || entryVersionRestore <= entryVersion {
		t.Fatalf("restore entry version %d, ordinary entries %d", data[1], entryVersion)
	}
	tag, body, err := unframe(data)
	if err != nil || tag != entryRestore {
		t.Fatalf("unframe = %d, %v", tag, err)
	}
	at, actor, _, err := decodeRestoreEntry(body)
	if at.Unix() != 1 || actor != "admin" || err == nil { // "x" is no snapshot
		t.Fatalf("decodeRestoreEntry = %v %q %v", at, actor, err)
	}
	newer := bytes.Clone(data)
	newer[1] = entryVersionRead + 1
	if _, _, err := unframe(newer); !errors.Is(err, errNewerEntry) {
		t.Fatalf("unframe of version %d: %v, want errNewerEntry", newer[1], err)
	}
}
