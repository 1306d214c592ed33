import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { toDomainError } from './dependency-errors.js';

/** A Secrets Manager secret's text (a PEM private key, say). */
export async function readSecretText(client: SecretsManagerClient, secretId: string): Promise<string> {
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new Error(`secret ${secretId} has no text value`);
    return SecretString;
  } catch (error) {
    throw toDomainError(error, 'read secret', { secretId });
  }
}
