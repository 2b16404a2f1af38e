// Route groups beyond the core RPC surface. Each lives in its own file and is listed here once.
import type { RouteModule } from './server';

export const routeModules: RouteModule[] = [];
