package envelope_test

import (
	"os"
	"testing"

	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// TestMain silences the peer's klog error lines, which every deliberately
// failed decryption would otherwise print.
func TestMain(m *testing.M) {
	kubepeer.SilenceKlog()
	os.Exit(m.Run())
}
