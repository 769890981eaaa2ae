package iamsim

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

const (
	base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// Every identifier the simulator makes is derived by hashing a label, so the
// same calls give the same IDs and secrets on every run, while distinct
// labels give distinct values in practice (collisions are still checked).

func digest(label string) []byte {
	h := sha512.Sum512([]byte(label))
	return h[:]
}

// base32ID returns n upper-case base32 characters derived from label, the
// alphabet of real access key IDs.
func base32ID(label string, n int) string {
	d := digest(label)
	out := make([]byte, n)
	for i := range out {
		out[i] = base32Alphabet[d[i]%32]
	}
	return string(out)
}

// secretFor returns the 40-character secret of a generated key.
func secretFor(id string) string {
	d := digest("iamsim/secret/" + id)
	out := make([]byte, 40)
	for i := range out {
		out[i] = secretAlphabet[d[i]%64]
	}
	return string(out)
}

// userID returns the "AIDA…" unique ID IAM gives a user.
func userID(account, name string) string {
	return "AIDA" + base32ID("iamsim/user/"+account+"/"+name, 17)
}

// sessionToken returns an opaque session token; real ones are long base64.
func sessionToken(id string, n uint64) string {
	var b []byte
	for i := range 3 {
		b = append(b, digest(fmt.Sprintf("iamsim/token/%s/%d/%d", id, n, i))...)
	}
	return "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(b)
}

// requestID returns a UUID-shaped request ID.
func requestID(n uint64) string {
	d := digest(fmt.Sprintf("iamsim/request/%d", n))
	d[6] = d[6]&0x0f | 0x40
	d[8] = d[8]&0x3f | 0x80
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		binary.BigEndian.Uint32(d[0:4]), d[4:6], d[6:8], d[8:10], d[10:16])
}
