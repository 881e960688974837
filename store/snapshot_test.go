package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// snapshotFixture fills an etcd with puts, overwrites and deletes, saves a
// snapshot as etcdctl does, stops etcd, and returns the snapshot, a copy of
// the member's db file and the live key/values at the snapshot.
func snapshotFixture(t *testing.T) (snap, memberDB string, live map[string]string) {
	t.Helper()
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	live = map[string]string{}
	for i := range 60 {
		k, v := fmt.Sprintf("/registry/secrets/ns/s%02d", i%40), fmt.Sprintf("value %d %s", i, strings.Repeat("x", i*31))
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
		live[k] = v
	}
	for i := range 5 {
		k := fmt.Sprintf("/registry/secrets/ns/s%02d", i*3)
		if _, err := cli.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		delete(live, k)
	}
	if _, err := cli.Put(ctx, "/other/x", "outside"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	snap = filepath.Join(dir, "snap.db")
	if err := c.SaveSnapshot(ctx, 0, snap); err != nil {
		t.Fatal(err)
	}
	c.Close()
	memberDB = filepath.Join(dir, "member.db")
	copyFile(t, c.DataDB(0), memberDB)
	return snap, memberDB, live
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readAll(s *store.Snapshot, prefix string) (map[string]string, []string, error) {
	got := map[string]string{}
	var order []string
	err := s.Each(context.Background(), prefix, func(kv store.KV) error {
		got[string(kv.Key)] = string(kv.Value)
		order = append(order, string(kv.Key))
		return nil
	})
	return got, order, err
}

func sum(t *testing.T, path string) [32]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestSnapshotSources reads the etcdctl snapshot (checksum verified) and
// the member's db file (no checksum): both give the live keys, in order,
// and neither file changes.
func TestSnapshotSources(t *testing.T) {
	snap, memberDB, live := snapshotFixture(t)
	b, _ := os.ReadFile(snap)
	if h := sha256.Sum256(b[:len(b)-32]); !bytes.Equal(h[:], b[len(b)-32:]) {
		t.Fatal("the snapshot does not end with the SHA-256 of the database")
	}
	for _, c := range []struct{ path, verified string }{{snap, store.VerifiedSHA256}, {memberDB, store.VerifiedNone}} {
		os.Chmod(c.path, 0o400)
		before, fi0 := sum(t, c.path), stat(t, c.path)
		s := &store.Snapshot{Path: c.path}
		got, order, err := readAll(s, "/registry/")
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if s.Verified() != c.verified || len(got) != len(live) {
			t.Errorf("%s: verified %q, %d keys; want %q, %d", c.path, s.Verified(), len(got), c.verified, len(live))
		}
		for k, v := range live {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.path, k, got[k], v)
			}
		}
		for i := 1; i < len(order); i++ {
			if order[i-1] >= order[i] {
				t.Fatalf("%s: keys out of order: %q, %q", c.path, order[i-1], order[i])
			}
		}
		if sum(t, c.path) != before || !stat(t, c.path).ModTime().Equal(fi0.ModTime()) {
			t.Errorf("%s: the file changed", c.path)
		}
	}
}

func stat(t *testing.T, path string) os.FileInfo {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// TestSnapshotDamaged: an empty file (bbolt used to try to initialise it:
// "write ...: bad file descriptor"), truncations (one gave SIGSEGV), a
// flipped checksum, a foreign file: each is ErrSnapshot with a clear
// message, and the file is not written to.
func TestSnapshotDamaged(t *testing.T) {
	snap, _, _ := snapshotFixture(t)
	full, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flipped := bytes.Clone(full)
	flipped[len(flipped)-1] ^= 1
	for name, c := range map[string]struct {
		data []byte
		msg  string
	}{
		"empty":          {nil, "too short"},
		"8 KiB":          {full[:8192], "truncated"},
		"half":           {full[:len(full)/2], "truncated"},
		"one byte short": {full[:len(full)-1], "neither"},
		"flipped sum":    {flipped, "SHA-256 mismatch"},
		"zeros":          {make([]byte, 64<<10), "no valid bbolt meta page"},
		"text":           {[]byte(strings.Repeat("not a database\n", 1000)), "no valid bbolt meta page"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, c.data, 0o400); err != nil {
			t.Fatal(err)
		}
		before := sum(t, path)
		_, _, err := readAll(&store.Snapshot{Path: path}, "/registry/")
		if !errors.Is(err, store.ErrSnapshot) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "bad file descriptor") {
			t.Errorf("%s: %v; want ErrSnapshot saying %q", name, err, c.msg)
		}
		if sum(t, path) != before {
			t.Errorf("%s: the file changed", name)
		}
	}
	// A missing file is not a corrupt one.
	if _, _, err := readAll(&store.Snapshot{Path: filepath.Join(dir, "missing")}, "/"); err == nil || errors.Is(err, store.ErrSnapshot) {
		t.Errorf("missing file: %v", err)
	}
	// Exactly the database, its checksum cut off: a valid, unverified db.
	cut := filepath.Join(dir, "no-sum.db")
	os.WriteFile(cut, full[:len(full)-32], 0o400)
	s := &store.Snapshot{Path: cut}
	if _, _, err := readAll(s, "/registry/"); err != nil || s.Verified() != store.VerifiedNone {
		t.Errorf("database without its checksum: %v, verified %q", err, s.Verified())
	}
}

// TestSnapshotCallbackErrors: fn's error stops Each and comes back as it is.
func TestSnapshotCallbackErrors(t *testing.T) {
	snap, _, _ := snapshotFixture(t)
	stop := errors.New("stop")
	err := (&store.Snapshot{Path: snap}).Each(context.Background(), "/", func(store.KV) error { return stop })
	if err != stop {
		t.Fatalf("Each returned %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if err := (&store.Snapshot{Path: snap}).Each(ctx, "/", func(store.KV) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled Each: %v", err)
	}
}
