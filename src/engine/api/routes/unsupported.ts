// Engine API endpoints berthd does not serve yet, answered with a 501 that names the docker
// command, so `docker top` says what is missing instead of dockerd's bare "page not found".
// A route moves out of this list when its subsystem lands.
import type { Router } from "../router.ts";
import { ApiError } from "../../errors.ts";

const MISSING: [method: string, template: string, command: string][] = [
  ["GET", "/containers/{id}/top", "docker top"],
  ["GET", "/containers/{id}/stats", "docker stats"],
  ["GET", "/containers/{id}/changes", "docker diff"],
  ["POST", "/containers/{id}/update", "docker update"],
  ["GET", "/containers/{id}/archive", "docker cp"],
  ["HEAD", "/containers/{id}/archive", "docker cp"],
  ["PUT", "/containers/{id}/archive", "docker cp"],
  ["POST", "/commit", "docker commit"],
  ["POST", "/build", "docker build"],
  ["POST", "/build/prune", "docker builder prune"],
  ["POST", "/images/{name:.*}/push", "docker push"],
  ["POST", "/auth", "docker login"],
  ["GET", "/system/df", "docker system df"],
  ["GET", "/networks", "docker network"],
  ["POST", "/networks/create", "docker network create"],
  ["POST", "/networks/prune", "docker network prune"],
  ["GET", "/networks/{id}", "docker network inspect"],
  ["DELETE", "/networks/{id}", "docker network rm"],
  ["POST", "/networks/{id}/connect", "docker network connect"],
  ["POST", "/networks/{id}/disconnect", "docker network disconnect"],
  ["GET", "/volumes", "docker volume"],
  ["POST", "/volumes/create", "docker volume create"],
  ["POST", "/volumes/prune", "docker volume prune"],
  ["GET", "/volumes/{name}", "docker volume inspect"],
  ["DELETE", "/volumes/{name}", "docker volume rm"],
];

export function register(r: Router): void {
  for (const [method, template, command] of MISSING) {
    r.add(method, template, () => {
      throw new ApiError(501, `${command} is not supported by berthd yet (${method} ${template})`);
    });
  }
}
