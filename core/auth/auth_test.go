package auth

import (
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		wantErr  bool
	}{
		{"ok", "correct horse battery", false},
		{"too short", "short", true},
		{"too long", strings.Repeat("a", 73), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPassword(tt.password)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !CheckPassword(h, tt.password) || CheckPassword(h, tt.password+"x") {
				t.Fatal("CheckPassword disagrees with HashPassword")
			}
		})
	}
	if CheckPassword("", "anything") {
		t.Fatal("empty hash must never match")
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(APIKeyPrefix), NewToken(APIKeyPrefix)
	if a == b || !strings.HasPrefix(a, APIKeyPrefix) || len(a) < 40 {
		t.Fatalf("bad tokens %q %q", a, b)
	}
}

func TestCSRF(t *testing.T) {
	c := NewCSRF([]byte("k"))
	tok := c.Token("session-1")
	if !c.Valid("session-1", tok) || c.Valid("session-2", tok) || c.Valid("session-1", "") {
		t.Fatal("CSRF validation wrong")
	}
}

func TestSetupToken(t *testing.T) {
	tok, st := NewSetupToken()
	if st.Check("wrong") || !st.Check(tok) || !st.Check(" "+tok+"\n") {
		t.Fatal("setup token check wrong")
	}
	st.Consume()
	if st.Check(tok) {
		t.Fatal("consumed token still valid")
	}
}
