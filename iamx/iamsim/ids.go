package iamsim

import (
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
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

// keyIDFor returns an access key ID with the given 4-letter prefix that
// encodes account the way AWS's IDs do: after the prefix, 16 base32
// characters of 10 bytes whose first 48 bits hold the account ID shifted
// left by 7 (mask 0x7fffffffff80). The other bits derive from label.
// GetAccessKeyInfo decodes it.
func keyIDFor(prefix, account, label string) string {
	n, _ := strconv.ParseUint(account, 10, 64)
	d := digest(label)
	z := n<<7 | uint64(d[0]&0x7f)
	var b [10]byte
	var w [8]byte
	binary.BigEndian.PutUint64(w[:], z)
	copy(b[:6], w[2:])
	copy(b[6:], d[1:5])
	return prefix + base32.StdEncoding.EncodeToString(b[:])
}

// accountOfKeyID decodes the account from a key ID made like AWS's.
func accountOfKeyID(id string) (string, bool) {
	if len(id) != 20 {
		return "", false
	}
	b, err := base32.StdEncoding.DecodeString(id[4:])
	if err != nil || len(b) != 10 {
		return "", false
	}
	var w [8]byte
	copy(w[2:], b[:6])
	n := (binary.BigEndian.Uint64(w[:]) & 0x7fffffffff80) >> 7
	if n > 999999999999 {
		return "", false
	}
	return fmt.Sprintf("%012d", n), true
}

// KeyIDForAccount returns an access key ID that STS GetAccessKeyInfo
// attributes to account, as AWS would, although no Server holds it: a key
// of another account, for tests. n tells several apart.
func KeyIDForAccount(account string, n int) string {
	return keyIDFor("AKIA", account, fmt.Sprintf("iamsim/foreign/%s/%d", account, n))
}
