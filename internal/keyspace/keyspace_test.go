package keyspace

import (
	"strings"
	"testing"
)

func TestCheckID(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"SKU-1", true},
		{"sku_1.blue/XL", true},
		{"商品-42", true},
		{"", false},
		{strings.Repeat("a", MaxIDLen), true},
		{strings.Repeat("a", MaxIDLen+1), false},
		{"a{b}", false},
		{"a}", false},
		{"a:b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		if got := CheckID(tt.give) == ""; got != tt.ok {
			t.Errorf("CheckID(%q) valid = %v, want %v (%s)", tt.give, got, tt.ok, CheckID(tt.give))
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{"shop1:inventory", true},
		{"", false},
		{"{shop}", false},
		{"a b", false},
	}
	for _, tt := range tests {
		if got := CheckPrefix(tt.give) == ""; got != tt.ok {
			t.Errorf("CheckPrefix(%q) valid = %v, want %v", tt.give, got, tt.ok)
		}
	}
}

func FuzzCheckID(f *testing.F) {
	for _, s := range []string{"SKU-1", "a{b", "a:b", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckID(s) != "" {
			return
		}
		// A valid ID can never change the hash tag or the separator structure.
		if strings.ContainsAny(s, "{}: \t\r\n") || len(s) > MaxIDLen {
			t.Fatalf("CheckID accepted %q", s)
		}
	})
}

func TestASCIIFastPathAgrees(t *testing.T) {
	for c := 0; c < 0x80; c++ {
		for _, s := range []string{string(rune(c)), "ab" + string(rune(c)) + "cd"} {
			if got, want := CheckID(s), checkRunes(s); got != want {
				t.Errorf("CheckID(%q) = %q, rune check says %q", s, got, want)
			}
		}
	}
}
