// Route groups beyond the core RPC surface. Each lives in its own file and is listed here once.
import type { RouteModule } from './server';
import { spectatorRoutes } from '../realtime/spectator';
import { teamRoutes } from './teams';
import { registerHookRoutes } from '../hooks/routes';

export const routeModules: RouteModule[] = [teamRoutes, spectatorRoutes, registerHookRoutes];
