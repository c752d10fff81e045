/**
 * The Auth service, as an etcd without authentication answers it: AuthStatus says it is off,
 * AuthDisable succeeds (it is off), AuthEnable fails as it does with no root user, and
 * Authenticate and every user / role call fail with "etcdserver: authentication is not enabled".
 */

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary, type ServerContext } from './context.js';
import { ETCD } from './errors.js';

const NOT_ENABLED = [
  'Authenticate',
  'UserAdd',
  'UserGet',
  'UserList',
  'UserDelete',
  'UserChangePassword',
  'UserGrantRole',
  'UserRevokeRole',
  'RoleAdd',
  'RoleGet',
  'RoleList',
  'RoleDelete',
  'RoleGrantPermission',
  'RoleRevokePermission',
];

/** The Auth service's handlers. */
export function authService(ctx: ServerContext): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {
    AuthStatus: unary(ctx, 'Auth', 'AuthStatus', () => ({ header: ctx.headers.at(ctx.store.revision), enabled: false, authRevision: 0 })),
    AuthDisable: unary(ctx, 'Auth', 'AuthDisable', () => ({ header: ctx.headers.at(ctx.store.revision) })),
    AuthEnable: unary(ctx, 'Auth', 'AuthEnable', () => {
      throw ETCD.rootUserNotExist;
    }),
  };
  for (const name of NOT_ENABLED) {
    handlers[name] = unary(ctx, 'Auth', name, () => {
      throw ETCD.authNotEnabled;
    });
  }
  return handlers;
}
