#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApertureApp } from '../lib/aperture-app.js';

// Context (all optional): -c stackName=Aperture -c allowedOrigins=https://app.example.com,https://admin.example.com
// -c jwtIssuer=https://issuer.example.com/ -c jwtAudience=client-id -c removalPolicy=retain|destroy
buildApertureApp(new App());
