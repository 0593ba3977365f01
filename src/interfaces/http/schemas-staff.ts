/** REST shapes of staff sign-in and staff management (issue 13). */
import { Type, type Static } from 'typebox'
import { PermissionNames, StaffRoles } from '../../protocol/permissions.js'
import { ALL_PRINCIPAL_ROLES } from '../../protocol/permissions.js'

export const StaffRole = Type.Enum([...StaffRoles])
// Caps before anything is hashed; the real rules (pattern, length) give a message naming the field.
const Username = Type.String({ minLength: 1, maxLength: 64 })
const Password = Type.String({ minLength: 1, maxLength: 256 })

export const LoginBody = Type.Object({ username: Username, password: Password }, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBody>

export const StaffUser = Type.Object({
  username: Type.String(),
  role: StaffRole,
  created_at: Type.Number(),
  updated_at: Type.Number(),
})

export const LoginReply = Type.Object({
  user: StaffUser,
  expires_at: Type.Number({ description: 'epoch s: the sign-in ends then at the latest' }),
  idle_minutes: Type.Integer({ description: 'the sign-in ends after this long without use' }),
})

export const AuthMe = Type.Object({
  name: Type.String(),
  role: Type.Enum([...ALL_PRINCIPAL_ROLES]),
  user: Type.Optional(Type.String()),
  permissions: Type.Array(Type.Enum([...PermissionNames])),
})

export const StaffList = Type.Array(StaffUser)
export const NewStaff = Type.Object({ username: Username, role: StaffRole, password: Password }, { additionalProperties: false })
export const StaffPatch = Type.Object({ role: Type.Optional(StaffRole), password: Type.Optional(Password) }, { additionalProperties: false, minProperties: 1 })
export const StaffParams = Type.Object({ username: Username })
export const Done = Type.Object({ ok: Type.Boolean() })
