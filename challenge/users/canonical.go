package users

// Canonical is the canonical user name that typed stands for. For now the
// users file knows no other spelling of a name than the name itself (the
// search_email and case_insensitive options will map more to it).
func (db *DB) Canonical(typed string) string { return typed }
