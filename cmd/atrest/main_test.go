package main

import (
	"os"
	"testing"

	"github.com/atrest-dev/atrest/testkit/kubepeer"
)

// TestMain runs the command itself when ATREST_TEST_MAIN=1 (tests that need
// atrest as a separate process re-execute the test binary so), and otherwise
// the tests, with the kube-apiserver peer's klog silenced, removing the
// binary the built-binary tests build.
func TestMain(m *testing.M) {
	if os.Getenv("ATREST_TEST_MAIN") == "1" {
		main()
		return
	}
	kubepeer.SilenceKlog()
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
