package main

// IsUnscopedAlexa exposes the statement classification to the external tests.
func IsUnscopedAlexa(s Statement) bool { return s.isUnscopedAlexa() }

// GrantsOnlySkill exposes the scoped-statement check to the external tests.
func GrantsOnlySkill(s Statement, skillId string) bool { return s.grantsOnlySkill(skillId) }
