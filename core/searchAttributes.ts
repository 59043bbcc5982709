// Our custom search attributes (typed keys): upserted by workflows, registered on the dev server at start.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CtModel = defineSearchAttributeKey('CtModel', SearchAttributeType.KEYWORD);
export const CtStage = defineSearchAttributeKey('CtStage', SearchAttributeType.KEYWORD);
export const CtTrigger = defineSearchAttributeKey('CtTrigger', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [CtModel, CtStage, CtTrigger];
