package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrest-dev/atrest/envelope"
	"github.com/atrest-dev/atrest/scan"
	"github.com/atrest-dev/atrest/store"
	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

var (
	flips    = flag.Int("flips", 400, "bit flips in TestSnapshotFlipFuzz")
	flipSeed = flag.Uint64("flipseed", 13, "seed of TestSnapshotFlipFuzz")
)

// TestSnapshotFlipFuzz flips one random bit of a real etcdctl snapshot
// (kube-apiserver's values, snapshot.SaveWithVersion output) at a time and
// scans it. Every flip must either fail with ErrSnapshot (exit status 3)
// or give the identical report; none may crash the process or change the
// report silently. Before the checksum and size checks, 300 flips gave 7
// crashes and 170 silently different reports.
//
// The same is done with the checksum cut off (a member's db file), where
// nothing can catch a flip inside a value: there it checks only that no
// flip crashes and that every error is ErrSnapshot, and logs how many
// reports differed.
func TestSnapshotFlipFuzz(t *testing.T) {
	c := etcdtest.New(t, 1)
	cli := c.TestClient(t)
	ctx := etcdtest.WaitContext(t)
	mixed, err := etcdtest.FillMixed(ctx, cli, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := envelope.ParseConfig([]byte(mixed.Current))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.db")
	if err := c.SaveSnapshot(ctx, 0, path); err != nil {
		t.Fatal(err)
	}
	c.Close()
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	report := func(p string) ([]byte, error) {
		rep, err := scan.Scan(context.Background(), &store.Snapshot{Path: p}, cfg, scan.Options{})
		if err != nil {
			return nil, err
		}
		return json.Marshal(rep)
	}
	for _, v := range []struct {
		name     string
		data     []byte
		verified bool
	}{
		{"etcdctl snapshot", full, true},
		{"without checksum", full[:len(full)-32], false},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(v.name, " ", "-"))
		if err := os.WriteFile(p, v.data, 0o600); err != nil {
			t.Fatal(err)
		}
		want, err := report(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(*flipSeed, uint64(len(v.data))))
		var errs, faults, identical, different int
		start := time.Now()
		for i := range *flips {
			pos := r.Int64N(int64(len(v.data)))
			bit := byte(1) << r.IntN(8)
			if _, err := f.WriteAt([]byte{v.data[pos] ^ bit}, pos); err != nil {
				t.Fatal(err)
			}
			got, err := report(p)
			switch {
			case errors.Is(err, store.ErrSnapshot):
				errs++
				if strings.Contains(err.Error(), "reading the bbolt database failed") {
					faults++
				}
			case err != nil:
				t.Errorf("%s: flip %d (byte %d, bit %#x): an error that is not ErrSnapshot: %v", v.name, i, pos, bit, err)
			case bytes.Equal(got, want):
				identical++
			default:
				different++
				if v.verified {
					t.Errorf("%s: flip %d (byte %d, bit %#x): a different report without an error", v.name, i, pos, bit)
				}
			}
			if _, err := f.WriteAt(v.data[pos:pos+1], pos); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		t.Logf("%s (%d bytes): %d flips in %v: 0 crashes, %d errors (ErrSnapshot; %d of them recovered bbolt faults or panics), %d identical reports, %d different reports",
			v.name, len(v.data), *flips, time.Since(start).Round(time.Millisecond), errs, faults, identical, different)
	}
}
