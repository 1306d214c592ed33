import type { z } from 'zod';

/** One line per problem, `path: message`, for errors people read in a terminal or a log. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = [...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
