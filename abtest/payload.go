package abtest

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrDecrypt is returned by Decrypt for a payload that does not decrypt
// with the key: malformed, corrupted or encrypted with another key.
var ErrDecrypt = errors.New("abtest: payload does not decrypt with this key")

// Decrypt opens a payload GrowthBook encrypted for the SDK (an
// "encryptedFeatures" or "encryptedSavedGroups" string): base64 IV, ".",
// base64 AES-CBC ciphertext with PKCS#7 padding, under the SDK
// connection's base64 key. It returns the plaintext (JSON, for the caller
// to decode).
func Decrypt(payload, key string) (string, error) {
	ivText, body, ok := strings.Cut(payload, ".")
	if !ok {
		return "", ErrDecrypt
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", ErrDecrypt
	}
	iv, err := base64.StdEncoding.DecodeString(ivText)
	if err != nil || len(iv) != aes.BlockSize {
		return "", ErrDecrypt
	}
	data, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return "", ErrDecrypt
	}
	block, err := aes.NewCipher(k) // 16, 24 or 32 bytes
	if err != nil {
		return "", ErrDecrypt
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", ErrDecrypt
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return "", ErrDecrypt
		}
	}
	plain = plain[:len(plain)-pad]
	if !utf8.Valid(plain) {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// QueryStringOverride returns the variation a URL forces for an
// experiment, as GrowthBook's SDKs read it: the query parameter named
// after the experiment's key holding a variation index in [0,
// variations). ok is false when the URL forces nothing.
func QueryStringOverride(key, rawURL string, variations int) (variation int, ok bool) {
	_, query, found := strings.Cut(rawURL, "?")
	if !found {
		return 0, false
	}
	query, _, _ = strings.Cut(query, "#")
	for _, pair := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err != nil || n != key {
			continue
		}
		v, err := url.QueryUnescape(value)
		if err != nil || v == "" || strings.Trim(v, "0123456789") != "" {
			return 0, false
		}
		i, err := strconv.Atoi(v)
		if err != nil || i >= variations {
			return 0, false
		}
		return i, true
	}
	return 0, false
}

// Payload is what GrowthBook's SDK endpoint serves, compiled: the
// features and the saved groups their conditions name.
type Payload struct {
	Features    *Features
	SavedGroups SavedGroups
}

// LoadPayload reads a GrowthBook SDK payload — {"features": …,
// "savedGroups": …}, or their encrypted forms "encryptedFeatures" and
// "encryptedSavedGroups", opened with key (the SDK connection's
// decryption key; empty when nothing is encrypted).
func LoadPayload(raw []byte, key string) (*Payload, error) {
	var p struct {
		Features             json.RawMessage `json:"features"`
		EncryptedFeatures    string          `json:"encryptedFeatures"`
		SavedGroups          json.RawMessage `json:"savedGroups"`
		EncryptedSavedGroups string          `json:"encryptedSavedGroups"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, &InputError{Field: "Payload", Rule: "must be a JSON object: " + err.Error()}
	}
	features, groups := p.Features, p.SavedGroups
	for _, enc := range []struct {
		field  string
		cipher string
		into   *json.RawMessage
	}{{"encryptedFeatures", p.EncryptedFeatures, &features}, {"encryptedSavedGroups", p.EncryptedSavedGroups, &groups}} {
		if enc.cipher == "" {
			continue
		}
		plain, err := Decrypt(enc.cipher, key)
		if err != nil {
			return nil, &InputError{Field: enc.field, Rule: "must decrypt with the key: " + err.Error()}
		}
		*enc.into = json.RawMessage(plain)
	}
	if len(features) == 0 || string(features) == "null" {
		features = json.RawMessage("{}")
	}
	out := &Payload{}
	var err error
	if out.Features, err = CompileFeatures(features); err != nil {
		return nil, err
	}
	if len(groups) > 0 && string(groups) != "null" {
		if err := json.Unmarshal(groups, &out.SavedGroups); err != nil {
			return nil, &InputError{Field: "savedGroups", Rule: "must be an object of saved groups: " + err.Error()}
		}
	}
	return out, nil
}
