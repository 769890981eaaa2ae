package iamx_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/keyrot/keyrot/iamx"
)

// Encoders must never write a Secret's value: MarshalText redacts it, and
// encoding/json and encoding/xml use MarshalText for values, pointers,
// fields, slices and map keys alike.
func TestSecretMarshalRedacts(t *testing.T) {
	t.Parallel()
	const value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	s := iamx.NewSecret(value)
	type holder struct {
		ID     string
		Secret iamx.Secret
		Ptr    *iamx.Secret
		Tagged iamx.Secret `json:"secret_access_key,omitempty" xml:"secret,attr"`
	}
	key := iamx.NewKey{Key: iamx.Key{ID: "AKIAIOSFODNN7EXAMPLE", User: "alice", Status: iamx.StatusActive}, Secret: s}

	text, err := s.MarshalText()
	if err != nil {
		t.Fatalf("MarshalText: %v", err)
	}
	outs := map[string]string{"MarshalText": string(text)}
	for name, v := range map[string]any{
		"value":         s,
		"pointer":       &s,
		"struct":        holder{ID: "x", Secret: s, Ptr: &s, Tagged: s},
		"struct ptr":    &holder{Secret: s, Ptr: &s},
		"NewKey":        key,
		"[]NewKey":      []iamx.NewKey{key},
		"slice":         []iamx.Secret{s, s},
		"map value":     map[string]iamx.Secret{"alice": s},
		"map key":       map[iamx.Secret]string{s: "alice"},
		"any":           map[string]any{"secret": s},
		"anonymous":     struct{ iamx.Secret }{s},
		"embedded ptr":  struct{ *iamx.Secret }{&s},
		"nested struct": struct{ Keys []holder }{[]holder{{Secret: s}}},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("json %s: %v", name, err)
			continue
		}
		outs["json "+name] = string(b)
		if b, err = json.MarshalIndent(v, "", "  "); err == nil {
			outs["json indent "+name] = string(b)
		}
	}
	for name, v := range map[string]any{
		"struct": holder{Secret: s, Ptr: &s, Tagged: s},
		"NewKey": key,
	} {
		b, err := xml.Marshal(v)
		if err != nil {
			t.Errorf("xml %s: %v", name, err)
			continue
		}
		outs["xml "+name] = string(b)
	}
	for name, out := range outs {
		if strings.Contains(out, value) || strings.Contains(out, "wJalr") {
			t.Errorf("%s writes the secret: %s", name, strings.ReplaceAll(out, value, "<SECRET>"))
		}
	}
	if s.Reveal() != value {
		t.Fatal("Reveal lost the secret")
	}
}

func TestSecretFormatRedactsEveryVerb(t *testing.T) {
	s := iamx.NewSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%T-%v", "%10s", "%-8v"} {
		got := fmt.Sprintf(verb, s)
		if strings.Contains(got, "wJalr") || strings.Contains(got, "774a616c") || strings.Contains(got, "774A616C") {
			t.Errorf("%s writes the secret: %q", verb, got)
		}
	}
	if got := fmt.Sprintf("%d", struct{ S iamx.Secret }{s}); strings.Contains(got, "wJalr") {
		t.Errorf("%%d of a struct writes the secret: %q", got)
	}
}
