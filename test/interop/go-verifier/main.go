// Command go-verifier checks the Merkle and signed-note parts of an unpacked mailrepo proof
// bundle with the Go reference implementations (golang.org/x/mod/sumdb/note and
// github.com/transparency-dev/merkle), independently of mailrepo's own code. Tests run it.
//
//	go run . BUNDLE_DIR MAIL.eml
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

func fail(step string, err error) {
	fmt.Printf("FAILED: %s: %v\n", step, err)
	os.Exit(1)
}

func read(dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail("bundle", err)
	}
	return b
}

// check verifies a c2sp.org/tlog-proof for entry against the log key; it returns the checkpoint.
func check(step string, entry []byte, proofText []byte, vkey string) []byte {
	head, cp, ok := bytes.Cut(proofText, []byte("\n\n"))
	if !ok {
		fail(step, fmt.Errorf("no checkpoint"))
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		fail(step, fmt.Errorf("bad header %q", lines[0]))
	}
	lines = lines[1:]
	if strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	index, err := strconv.ParseUint(strings.TrimPrefix(lines[0], "index "), 10, 64)
	if err != nil {
		fail(step, err)
	}
	var hashes [][]byte
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			fail(step, err)
		}
		hashes = append(hashes, h)
	}
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		fail(step, err)
	}
	n, err := note.Open(cp, note.VerifierList(v))
	if err != nil {
		fail(step+" signature", err)
	}
	body := strings.Split(n.Text, "\n")
	if body[0] != v.Name() {
		fail(step, fmt.Errorf("origin %q is not %q", body[0], v.Name()))
	}
	size, err := strconv.ParseUint(body[1], 10, 64)
	if err != nil {
		fail(step, err)
	}
	root, err := base64.StdEncoding.DecodeString(body[2])
	if err != nil {
		fail(step, err)
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leaf, hashes, root); err != nil {
		fail(step+" inclusion", err)
	}
	fmt.Printf("OK   %s: index %d of %d, signed by %s\n", step, index, size, v.Name())
	return cp
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go-verifier BUNDLE_DIR MAIL.eml")
		os.Exit(2)
	}
	dir := os.Args[1]
	mail, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("mail", err)
	}
	entry := sha256.Sum256(mail)
	tenantCp := check("tenant", entry[:], read(dir, "tenant.tlog-proof"), string(read(dir, "keys/tenant-log.vkey")))
	cpHash := sha256.Sum256(tenantCp)
	anchorCp := check("anchor", cpHash[:], read(dir, "anchor.tlog-proof"), string(read(dir, "keys/anchor-log.vkey")))
	if !bytes.Equal(anchorCp, read(dir, "anchor-checkpoint.txt")) {
		fail("anchor", fmt.Errorf("anchor-checkpoint.txt differs from the proof's checkpoint"))
	}
	fmt.Println("VERIFIED")
}
