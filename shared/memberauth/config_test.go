package memberauth

import (
	"slices"
	"strings"
	"testing"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestLoadMemberConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		want    MemberConfig
		wantErr []string // substrings, each on its own line
	}{
		{"nothing set: own account only, default role", nil, MemberConfig{Role: DefaultRole}, nil},
		{"accounts sorted, blanks and repeats dropped",
			[]string{"BACKUP_ALLOWED_ACCOUNTS= 3000000000000003, 2000000000000002,,3000000000000003", "BACKUP_MEMBER_EXTERNAL_ID=ext-123"},
			MemberConfig{AllowedAccounts: []string{"2000000000000002", "3000000000000003"}, Role: DefaultRole, ExternalID: "ext-123"}, nil},
		{"regions and role",
			[]string{"BACKUP_ALLOWED_REGIONS=cn-shanghai,cn-beijing", "BACKUP_MEMBER_ROLE=Backup.Member"},
			MemberConfig{AllowedRegions: []string{"cn-beijing", "cn-shanghai"}, Role: "Backup.Member"}, nil},
		{"account not 16 digits", []string{"BACKUP_ALLOWED_ACCOUNTS=2000000000000002,12345", "BACKUP_MEMBER_EXTERNAL_ID=ext-123"}, MemberConfig{},
			[]string{`BACKUP_ALLOWED_ACCOUNTS: "12345": ` + AccountIDRule}},
		{"region not a region id", []string{"BACKUP_ALLOWED_REGIONS=cn-shanghai,rds.evil.example"}, MemberConfig{},
			[]string{`BACKUP_ALLOWED_REGIONS: "rds.evil.example": must be a region id`}},
		{"role name", []string{"BACKUP_MEMBER_ROLE=admin/role"}, MemberConfig{},
			[]string{`BACKUP_MEMBER_ROLE: "admin/role": ` + RoleNameRule}},
		{"external id malformed", []string{"BACKUP_MEMBER_EXTERNAL_ID=has space"}, MemberConfig{},
			[]string{"BACKUP_MEMBER_EXTERNAL_ID: (value not shown, 9 characters): " + ExternalIDRule}},
		{"accounts without external id", []string{"BACKUP_ALLOWED_ACCOUNTS=2000000000000002"}, MemberConfig{},
			[]string{"BACKUP_MEMBER_EXTERNAL_ID: is required when BACKUP_ALLOWED_ACCOUNTS names accounts"}},
		{"every mistake at once",
			[]string{"BACKUP_ALLOWED_ACCOUNTS=x", "BACKUP_ALLOWED_REGIONS=X", "BACKUP_MEMBER_ROLE=a b", "BACKUP_MEMBER_EXTERNAL_ID=;"}, MemberConfig{},
			[]string{"BACKUP_ALLOWED_ACCOUNTS:", "BACKUP_ALLOWED_REGIONS:", "BACKUP_MEMBER_ROLE:", "BACKUP_MEMBER_EXTERNAL_ID:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadMemberConfig(envOf(tt.env...))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("LoadMemberConfig = %v, want an error", got)
				}
				lines := strings.Split(err.Error(), "\n")
				for _, w := range tt.wantErr {
					if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if len(lines) != len(tt.wantErr) {
					t.Errorf("error has %d lines, want %d: %q", len(lines), len(tt.wantErr), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.AllowedAccounts, tt.want.AllowedAccounts) || !slices.Equal(got.AllowedRegions, tt.want.AllowedRegions) ||
				got.Role != tt.want.Role || got.ExternalID != tt.want.ExternalID {
				t.Errorf("LoadMemberConfig = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMemberConfigAllowsAndPrints(t *testing.T) {
	c, err := LoadMemberConfig(envOf("BACKUP_ALLOWED_ACCOUNTS=3000000000000003,2000000000000002", "BACKUP_MEMBER_EXTERNAL_ID=ext-secretish"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllowsAccount("2000000000000002") || c.AllowsAccount("4000000000000004") || c.AllowsAccount("") {
		t.Error("AllowsAccount")
	}
	if s := c.String(); strings.Contains(s, "ext-secretish") || !strings.Contains(s, "externalId=set") {
		t.Errorf("String() = %q", s)
	}
}
