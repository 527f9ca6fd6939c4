package slapdtest

// Passwords of the seeded users.
const (
	ServicePassword = "service-secret"
	AlicePassword   = "alice-password"
	BobPassword     = "bob-password"
	CarolPassword   = "carol-password"
)

// ServiceDN is the seeded service account, which may read the directory.
const ServiceDN = "cn=gateway,ou=services," + Suffix

// seedBase is what both directories start with: the three branches and
// the service account.
const seedBase = `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: ou=services,dc=example,dc=org
objectClass: organizationalUnit
ou: services

dn: cn=gateway,ou=services,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: gateway
userPassword: service-secret

`

// Seed is the default directory: a service account; alice (groups staff
// and admins), bob (staff), carol (no group); groups as groupOfNames in
// ou=groups, so that the memberof overlay gives users memberOf.
const Seed = seedBase + `dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
mail: alice@example.com
userPassword: alice-password

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
sn: Builder
mail: bob@example.com
userPassword: bob-password

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol Danvers
sn: Danvers
mail: carol@example.com
userPassword: carol-password

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=admins,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,dc=example,dc=org
`

// ADSeed is an AD-shaped directory for Options.ADSchema: users with
// sAMAccountName, userPrincipalName and userAccountControl (512 normal,
// 514 disabled; sAMAccountType 805306368, a normal account), a computer
// account PC01$ (sAMAccountType 805306369) whose password is its name as
// pre-Windows-2000 computers have it, groups with nested membership (staff contains the group
// engineers, which contains dave).
const ADSeed = seedBase + `dn: cn=Dave Jones,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: user
cn: Dave Jones
displayName: Dave Jones
sn: Jones
sAMAccountName: dave
userPrincipalName: dave@corp.example.com
mail: dave@example.com
userAccountControl: 512
sAMAccountType: 805306368
userPassword: dave-password

dn: cn=Erin Old,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: user
cn: Erin Old
displayName: Erin Old
sn: Old
sAMAccountName: erin
userPrincipalName: erin@corp.example.com
mail: erin@example.com
userAccountControl: 514
sAMAccountType: 805306368
userPassword: erin-password

dn: cn=PC01,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: user
cn: PC01
sn: PC01
sAMAccountName: PC01$
userAccountControl: 4128
sAMAccountType: 805306369
userPassword: pc01

dn: cn=engineers,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: engineers
member: cn=Dave Jones,ou=people,dc=example,dc=org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: cn=engineers,ou=groups,dc=example,dc=org
member: cn=Erin Old,ou=people,dc=example,dc=org
`
