/* SPDX-License-Identifier: Apache-2.0 */
/* osprey's live migration requests (docs/migration.md): PUT/GET /migrate, PUT /migrate/cancel. */
#ifndef OSPREY_API_HANDLERS_MIGRATION_H
#define OSPREY_API_HANDLERS_MIGRATION_H

#include "api/internal.h"

void api_put_migrate(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp);
void api_get_migrate(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp);
void api_put_migrate_cancel(struct api_ctx *ctx, const struct api_req *req,
			    struct api_response *resp);

#endif
