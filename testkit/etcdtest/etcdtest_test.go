package etcdtest_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/atrest-dev/atrest/testkit/etcdtest"
)

// TestClusterPutGet starts a one- and a three-member cluster and checks a
// value written through one endpoint is read back from every member.
func TestClusterPutGet(t *testing.T) {
	for _, members := range []int{1, 3} {
		t.Run(fmt.Sprint("members=", members), func(t *testing.T) {
			c := etcdtest.New(t, members)
			if len(c.Endpoints) != members {
				t.Fatalf("%d endpoints, want %d", len(c.Endpoints), members)
			}
			cli := c.TestClient(t)
			ctx := etcdtest.WaitContext(t)
			if _, err := cli.Put(ctx, "/registry/secrets/default/a", "v"); err != nil {
				t.Fatal(err)
			}
			status, err := cli.MemberList(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(status.Members) != members {
				t.Fatalf("%d members listed, want %d", len(status.Members), members)
			}
			r, err := cli.Get(ctx, "/registry/secrets/default/a")
			if err != nil || len(r.Kvs) != 1 || !bytes.Equal(r.Kvs[0].Value, []byte("v")) {
				t.Fatalf("get: %v %v", r, err)
			}
		})
	}
}
