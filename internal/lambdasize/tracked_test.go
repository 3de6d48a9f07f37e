package lambdasize_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// executableMagic are the first bytes of the executables a `go build` leaves behind: ELF
// (Linux), Mach-O (macOS, both byte orders and the universal header) and PE (Windows).
var executableMagic = [][]byte{
	[]byte("\x7fELF"), {0xcf, 0xfa, 0xed, 0xfe}, {0xfe, 0xed, 0xfa, 0xcf}, {0xca, 0xfe, 0xba, 0xbe}, []byte("MZ"),
}

// TestNoBuiltBinaryIsTracked fails for a compiled program committed to the repository, such as
// the 10 MB handler binary a `go build ./lambda-src/<name>` once left at the root: handlers are
// built from source at synth, and a stale binary in the tree is dead weight at best.
func TestNoBuiltBinaryIsTracked(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// GIVEN the tracked files (a tree without git, such as a module download, has none to check)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, name := range bytes.Split(bytes.TrimSuffix(out, []byte{0}), []byte{0}) {
		// WHEN each file's first bytes are read
		f, err := os.Open(filepath.Join(root, string(name)))
		if err != nil {
			continue // deleted in the working tree
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		f.Close()
		// THEN none is an executable
		for _, magic := range executableMagic {
			if n >= len(magic) && bytes.Equal(head[:len(magic)], magic) {
				t.Errorf("%s is a compiled executable; remove it from the repository", name)
			}
		}
	}
}
