package webhook

import "testing"

func TestNormaliseAction(t *testing.T) {
	for in, want := range map[string]string{"opened": actionOpen, "reopened": actionOpen, "synchronize": actionUpdate,
		"updated": actionUpdate, "closed": actionClose, "merge": actionClose, "labeled": actionLabel, "assigned": actionIgnored} {
		if got := normaliseAction(in); got != want {
			t.Errorf("normaliseAction(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseImagePushes(t *testing.T) {
	got, err := ParseImagePushes([]byte(`{"push_data":{"tag":"v1"},"repository":{"repo_name":"acme/api"}}`))
	if err != nil || len(got) != 1 || got[0] != (ImagePush{Repository: "acme/api", Tag: "v1"}) {
		t.Fatalf("docker hub: %+v %v", got, err)
	}
	got, err = ParseImagePushes([]byte(`{"events":[{"action":"push","target":{"repository":"api","tag":"v2","digest":"sha256:ab"}},{"action":"pull","target":{"repository":"api"}}]}`))
	if err != nil || len(got) != 1 || got[0].Digest != "sha256:ab" {
		t.Fatalf("distribution: %+v %v", got, err)
	}
	if _, err := ParseImagePushes([]byte(`{"x":1}`)); err == nil {
		t.Fatal("unknown payload accepted")
	}
}
