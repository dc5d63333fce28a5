package vars

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		layers  Layers
		want    map[string]string
		wantErr string
	}{
		{
			name:   "plain values",
			layers: Layers{Application: map[string]string{"A": "1", "B": "two"}},
			want:   map[string]string{"A": "1", "B": "two"},
		},
		{
			name: "project and environment references",
			layers: Layers{
				Project:     map[string]string{"DB_PASSWORD": "s3cret"},
				Environment: map[string]string{"DOMAIN": "example.com"},
				Application: map[string]string{
					"DATABASE_URL": "postgres://app:${{project.DB_PASSWORD}}@db/app",
					"API":          "https://${{ environment.DOMAIN }}/api",
				},
			},
			want: map[string]string{
				"DATABASE_URL": "postgres://app:s3cret@db/app",
				"API":          "https://example.com/api",
			},
		},
		{
			name: "shared values are not exported unless referenced",
			layers: Layers{
				Project:     map[string]string{"UNUSED": "x"},
				Application: map[string]string{"A": "1"},
			},
			want: map[string]string{"A": "1"},
		},
		{
			name: "chained references across levels",
			layers: Layers{
				Project:     map[string]string{"HOST": "db", "URL": "pg://${{HOST}}:5432"},
				Environment: map[string]string{"DSN": "${{project.URL}}/prod"},
				Application: map[string]string{"X": "${{environment.DSN}}", "Y": "${{X}}!", "Z": "${{app.Y}}"},
			},
			want: map[string]string{"X": "pg://db:5432/prod", "Y": "pg://db:5432/prod!", "Z": "pg://db:5432/prod!"},
		},
		{
			name:   "escaped reference is literal",
			layers: Layers{Application: map[string]string{"A": "$${{project.X}} costs $5"}},
			want:   map[string]string{"A": "${{project.X}} costs $5"},
		},
		{
			name:    "missing reference",
			layers:  Layers{Application: map[string]string{"A": "${{project.NOPE}}"}},
			wantErr: "application.A: ${{project.NOPE}} refers to project.NOPE, which is not defined",
		},
		{
			name:    "self reference",
			layers:  Layers{Application: map[string]string{"A": "x${{A}}"}},
			wantErr: "is circular: application.A -> application.A",
		},
		{
			name: "cycle across levels",
			layers: Layers{
				Project:     map[string]string{"P": "${{P2}}", "P2": "${{P}}"},
				Application: map[string]string{"A": "${{project.P}}"},
			},
			wantErr: "is circular: project.P -> project.P2 -> project.P",
		},
		{
			name:    "unclosed reference",
			layers:  Layers{Application: map[string]string{"A": "${{project.X"}},
			wantErr: "application.A: ${{project.X is not closed with }}",
		},
		{
			name:    "unknown level",
			layers:  Layers{Application: map[string]string{"A": "${{org.X}}"}},
			wantErr: `names unknown level "org"`,
		},
		{
			name:    "empty name",
			layers:  Layers{Application: map[string]string{"A": "${{project.}}"}},
			wantErr: "invalid name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.layers)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrReference) {
					t.Fatalf("err %v does not wrap ErrReference", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"A": true, "_x": true, "DB_URL2": true, "": false, "2X": false, "A-B": false, "A B": false,
		strings.Repeat("a", 256): false,
	} {
		if err := ValidateName(name); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("a${{B}}c", "${{project.X}}", "${{environment.Y}}")
	f.Fuzz(func(t *testing.T, a, p, e string) {
		_, _ = Resolve(Layers{
			Project:     map[string]string{"X": p, "Y": e},
			Environment: map[string]string{"Y": e},
			Application: map[string]string{"A": a, "B": p},
		})
	})
}
